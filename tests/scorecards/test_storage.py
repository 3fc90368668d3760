"""How scorecards are stored: JSON written with orjson, explanations as text compressed with lz4."""

from decimal import Decimal
from importlib import import_module

import pytest
from django.db import connection

from scorecards.fields import FastJSONEncoder
from scorecards.inputs import serialise
from scorecards.models import Scorecard
from tests.scorecards.conftest import MARCH


@pytest.mark.django_db
def test_explanations_are_compressed_with_lz4(require_postgres):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'scorecards_scorecard'::regclass AND attname = 'explanation'"
        )
        assert cursor.fetchone() == ("l",)


@pytest.mark.django_db
def test_explanations_are_stored_as_json_text_that_is_not_parsed_into_jsonb(require_postgres):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'scorecards_scorecard'::regclass AND attname = 'explanation'"
        )
        assert cursor.fetchone() == ("text",)


def test_the_encoder_writes_the_same_json_values_as_the_standard_library():
    import json

    value = {"text": ["Überprüfung «P1» ≤ 60 min"], "n": [1, 2.5, None, True], 3: {"a": -0.1}}
    assert json.loads(json.dumps(value, cls=FastJSONEncoder)) == json.loads(json.dumps(value))


@pytest.mark.django_db
def test_a_computed_explanation_reads_back_as_written(rich_engagement):
    from scorecards.compute import compute_chunk

    compute_chunk([rich_engagement.pk], "month", MARCH)
    scorecard = Scorecard.objects.get()
    stored = Scorecard.objects.values_list("explanation", flat=True).get()
    assert stored == scorecard.explanation
    assert stored["data"]["reliance"] and stored["summary"][0].startswith("Overall")


# An explanation's data as scorecards stored it before migration 0008: the worked
# example of tests/scorecards/test_scoring.py (previous score 80.0, healthy), computed by
# the code of that time.
OLD_EXPLANATION = {
    "engagement": "Service desk",
    "model_version": 1,
    "data": {
        "model_version": 1,
        "period": {"kind": "month", "start": "2026-03-01", "end": "2026-03-31"},
        "as_of": "2026-03-31",
        "config": {
            "weights": {
                "reliance": 30.0,
                "contact": 15.0,
                "transparency": 15.0,
                "dedication": 15.0,
                "alignment": 15.0,
                "sentiment": 10.0,
            },
            "healthy_at": 75.0,
            "watch_at": 50.0,
            "min_coverage": 0.4,
            "survey_threshold": 3,
        },
        "previous": {"overall": "80.0", "band": "healthy"},
        "contact": {
            "span_start": "2026-03-01",
            "span_end": "2026-03-31",
            "span_days": 31,
            "cadence_days": 7,
            "held": 3,
            "last_checkin_on": "2026-03-20",
        },
        "reliance": [
            {
                "sla_id": 3,
                "name": "SLA 3",
                "side": "client",
                "direction": "higher_is_better",
                "target": "99",
                "unit": "%",
                "weight": "1",
                "measurements": 1,
                "met": 1,
            },
            {
                "sla_id": 1,
                "name": "SLA 1",
                "side": "provider",
                "direction": "higher_is_better",
                "target": "99",
                "unit": "%",
                "weight": "2",
                "measurements": 4,
                "met": 3,
            },
            {
                "sla_id": 2,
                "name": "SLA 2",
                "side": "provider",
                "direction": "higher_is_better",
                "target": "99",
                "unit": "%",
                "weight": "1",
                "measurements": 2,
                "met": 1,
            },
        ],
        "transparency": {"provider": {"hits": 2, "total": 4}},
        "dedication": {"client": {"hits": 3, "total": 3}, "provider": {"hits": 1, "total": 2}},
        "alignment": [
            {
                "goal_id": 2,
                "title": "Runbook",
                "start_date": "2026-01-01",
                "due_date": "2026-03-15",
                "achieved_on": "2026-02-15",
                "latest_percent": 80,
            },
            {
                "goal_id": 1,
                "title": "Cut backlog",
                "start_date": "2026-01-01",
                "due_date": "2026-05-01",
                "achieved_on": None,
                "latest_percent": 50,
            },
        ],
        "sentiment": {
            "client": {"respondents": 3, "answer_total": 36},
            "provider": {"respondents": 3, "answer_total": 72},
        },
    },
}


def test_migrations_0008_and_0009_convert_old_explanation_data_into_the_serialised_inputs():
    from relationships.scoring_config import config_values
    from scorecards import scoring
    from scorecards.compute import inputs_digest
    from tests.scorecards.test_scoring import full_inputs

    migration = import_module(
        "scorecards.migrations.0008_explanation_data_is_the_serialised_inputs"
    )
    then = import_module("scorecards.migrations.0009_survey_figures_below_threshold_are_not_kept")
    explanation = {**OLD_EXPLANATION, "data": migration.data_from_old(OLD_EXPLANATION)}
    assert then.convert(explanation)
    data = explanation["data"]
    inputs, previous = full_inputs(), scoring.PreviousScore(Decimal("80.0"), "healthy")
    assert data == serialise(inputs, config_values(), previous)
    # A computation over the same inputs finds the digest it would write: it writes nothing.
    assert then.digest_of(data) == inputs_digest(serialise(inputs, config_values(), None))


def test_migration_0009_keeps_nothing_about_a_side_below_the_threshold():
    migration = import_module(
        "scorecards.migrations.0009_survey_figures_below_threshold_are_not_kept"
    )
    explanation = {
        "dimensions": {
            "sentiment": {
                "text": [
                    "No client survey responses this period.",
                    "1 provider response(s): fewer than the 3 needed to count "
                    "(anonymity threshold).",
                ]
            }
        },
        "data": {
            "sentiment": {"provider": {"respondents": 1, "answer_total": 7}},
            "config": {"survey_threshold": 3},
        },
    }
    assert migration.convert(explanation)
    assert explanation["data"]["sentiment"] == {}
    assert (explanation["data"]["final"], explanation["data"]["survey_threshold"]) == (True, 3)
    assert explanation["dimensions"]["sentiment"]["text"] == [
        "Fewer than 3 client responses: not shown (anonymity threshold).",
        "Fewer than 3 provider responses: not shown (anonymity threshold).",
    ]
    assert "answer_total" not in str(explanation) and "1 provider" not in str(explanation)
    assert not migration.convert(explanation)  # converted once
