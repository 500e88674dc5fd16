from django.db import migrations


def create_counter(apps, schema_editor):
    # The feed's one counter row: every transaction that writes entries takes its cursors
    # from it (see FeedCounter).
    apps.get_model("feed", "FeedCounter").objects.get_or_create(pk=1, defaults={"head": 0})


class Migration(migrations.Migration):
    dependencies = [("feed", "0001_initial")]

    operations = [migrations.RunPython(create_counter, migrations.RunPython.noop)]
