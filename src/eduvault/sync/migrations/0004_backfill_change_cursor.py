"""Give every change recorded before the feed existed its cursor, in the order they were
written, and start the feed counter after them."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    Change = apps.get_model("sync", "Change")
    FeedCounter = apps.get_model("feed", "FeedCounter")
    head = 0
    for pk in Change.objects.order_by("id").values_list("pk", flat=True).iterator(chunk_size=5000):
        head += 1
        Change.objects.filter(pk=pk).update(cursor=head)
    FeedCounter.objects.update_or_create(pk=1, defaults={"head": head})


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0003_alter_change_options_remove_change_change_course_id_and_more"),
        ("feed", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="change",
            name="cursor",
            field=models.BigIntegerField(unique=True),
        ),
    ]
