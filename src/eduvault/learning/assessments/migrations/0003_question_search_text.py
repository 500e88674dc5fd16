from django.db import migrations, models


def fill(apps, schema_editor):
    from eduvault.cores.grading import parse_question, searchable_text

    Question = apps.get_model("assessments", "Question")
    batch = []
    for question in Question.objects.only("id", "document").iterator(chunk_size=1000):
        question.search_text = searchable_text(parse_question(question.document))
        batch.append(question)
        if len(batch) == 1000:
            Question.objects.bulk_update(batch, ["search_text"])
            batch = []
    Question.objects.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [("assessments", "0002_attempt_flags_attempt_origin_alter_answer_created_at")]

    operations = [
        migrations.AddField(
            model_name="question",
            name="search_text",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
