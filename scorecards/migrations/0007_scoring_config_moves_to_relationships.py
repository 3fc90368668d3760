from django.db import migrations


def content_types_follow(apps, schema_editor):
    """Permissions and admin history point at the model's content type: move it along."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("scoringconfig", "historicalscoringconfig"):
        if not ContentType.objects.filter(app_label="relationships", model=model).exists():
            ContentType.objects.filter(app_label="scorecards", model=model).update(
                app_label="relationships"
            )


def content_types_return(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(
        app_label="relationships", model__in=["scoringconfig", "historicalscoringconfig"]
    ).update(app_label="scorecards")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("relationships", "0008_scoring_config_arrives"),
        ("scorecards", "0006_explanation_text_previous_score"),
    ]

    # State only: the tables stay, now owned by relationships.ScoringConfig.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="HistoricalScoringConfig"),
                migrations.DeleteModel(name="ScoringConfig"),
            ]
        ),
        migrations.RunPython(content_types_follow, content_types_return),
    ]
