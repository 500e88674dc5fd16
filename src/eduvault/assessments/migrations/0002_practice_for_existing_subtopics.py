"""Courses synchronized before assessments existed: give each subtopic its practice assessment."""

from django.db import migrations


def create_practice(apps, schema_editor):
    Node = apps.get_model("content", "Node")
    Assessment = apps.get_model("assessments", "Assessment")
    have = set(Assessment.objects.filter(kind="practice").values_list("course_id", "subtopic"))
    batch = []
    for course_id, external_id, title in (
        Node.objects.filter(kind="subtopic").values_list("course_id", "external_id", "title").iterator()
    ):
        if (course_id, external_id) in have:
            continue
        batch.append(
            Assessment(
                course_id=course_id,
                kind="practice",
                title=title or external_id,
                subtopic=external_id,
                subtopics=[external_id],
                feedback="immediate",
                created_by="sync",
            )
        )
        if len(batch) >= 500:
            Assessment.objects.bulk_create(batch)
            batch = []
    Assessment.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0001_initial"),
        ("content", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_practice, migrations.RunPython.noop)]
