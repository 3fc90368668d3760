"""How scorecards are stored: JSON written with orjson, explanations as text compressed with lz4."""

import pytest
from django.db import connection

from scorecards.fields import FastJSONEncoder
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
