from django.db import migrations


def install(apps, schema_editor):
    from eduvault.learning.search.index import install

    install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from eduvault.learning.search.index import uninstall

    uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0001_initial"),
        ("records", "0001_initial"),
        ("assessments", "0003_question_search_text"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
