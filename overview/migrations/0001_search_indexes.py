"""GIN indexes of the search's documents (overview.search), on PostgreSQL only: SQLite
searches with icontains and has no GIN. Each expression is the one `Searched.vector()`
builds; tests/overview/test_search_indexes.py checks the plans use them."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

# (app, model, index name, fields of the document)
DOCUMENTS = (
    ("relationships", "Engagement", "search_engagement", ("name",)),
    ("relationships", "SLA", "search_sla", ("name", "description")),
    ("relationships", "SharedGoal", "search_goal", ("title", "description", "target")),
    ("feedback", "Issue", "search_issue", ("title", "description")),
    ("feedback", "CheckIn", "search_checkin", ("notes",)),
)


def _indexes(apps):
    for app, model, name, fields in DOCUMENTS:
        yield apps.get_model(app, model), GinIndex(SearchVector(*fields, config="english"), name=name)


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for model, index in _indexes(apps):
            schema_editor.add_index(model, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for model, index in _indexes(apps):
            schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [
        ("relationships", "0014_measurement_disputes"),
        ("feedback", "0004_survey_version_2"),
    ]

    operations = [migrations.RunPython(add_indexes, remove_indexes)]
