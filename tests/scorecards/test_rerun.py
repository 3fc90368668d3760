"""A recompute over unchanged inputs does not score again; any change in what a score
depends on (inputs, configuration, the previous period's score) does."""

from decimal import Decimal
from importlib import import_module
from unittest import mock

import pytest

from relationships.models import ScoringConfig
from scorecards import compute, scoring
from scorecards.models import Scorecard
from tests.scorecards.conftest import MARCH

FEBRUARY = MARCH.replace(month=2)


def _compute(engagement, period_start=MARCH):
    return compute.compute_chunk([engagement.pk], "month", period_start)


def _scorings(engagement, period_start=MARCH) -> int:
    with mock.patch.object(
        scoring, "score_engagement", wraps=scoring.score_engagement
    ) as score_engagement:
        _compute(engagement, period_start)
    return score_engagement.call_count


@pytest.mark.django_db
def test_a_rerun_over_unchanged_inputs_scores_nothing_and_writes_nothing(rich_engagement):
    _compute(rich_engagement)
    before = Scorecard.objects.values().get(period_start=MARCH)
    assert _scorings(rich_engagement) == 0
    assert Scorecard.objects.values().get(period_start=MARCH) == before


@pytest.mark.django_db
def test_a_scorecard_explained_in_earlier_words_keeps_them(rich_engagement):
    """The sentences are part of the record (a signature covers them): a scorecard computed
    before their wording changed ("day(s)", "2026-03-31") keeps its text until its inputs
    change, and no migration rewrites it."""
    _compute(rich_engagement)
    scorecard = Scorecard.objects.get(period_start=MARCH)
    earlier = {**scorecard.explanation, "summary": ["3 day(s) with a check-in to 2026-03-31."]}
    Scorecard.objects.filter(pk=scorecard.pk).update(explanation=earlier)
    assert _scorings(rich_engagement) == 0
    assert Scorecard.objects.get(pk=scorecard.pk).explanation["summary"] == earlier["summary"]


@pytest.mark.django_db
def test_a_configuration_changed_within_the_period_scores_it_again(rich_engagement, on):
    _compute(rich_engagement)
    # Agreed on 20 March: in force for March (one agreed after March ended is not).
    with on(MARCH.replace(day=20)):
        ScoringConfig.objects.update_or_create(
            engagement=rich_engagement, defaults={"survey_threshold": 1}
        )
    assert _scorings(rich_engagement) == 1
    scorecard = Scorecard.objects.get(period_start=MARCH)
    assert scorecard.config["survey_threshold"] == 1


@pytest.mark.django_db
def test_a_new_previous_score_scores_again_and_updates_the_trend(rich_engagement):
    _compute(rich_engagement)
    assert Scorecard.objects.get(period_start=MARCH).trend is None  # no February yet
    _compute(rich_engagement, FEBRUARY)
    assert _scorings(rich_engagement) == 1
    march, february = (Scorecard.objects.get(period_start=p) for p in (MARCH, FEBRUARY))
    assert march.trend == march.overall - february.overall
    assert march.explanation["data"]["previous"] == {
        "overall": str(february.overall),
        "band": february.band,
    }
    assert _scorings(rich_engagement) == 0


@pytest.mark.django_db
def test_a_changed_previous_score_scores_again(rich_engagement):
    _compute(rich_engagement, FEBRUARY)
    _compute(rich_engagement)
    Scorecard.objects.filter(period_start=FEBRUARY).update(overall="12.3", band="at_risk")
    assert _scorings(rich_engagement) == 1
    march = Scorecard.objects.get(period_start=MARCH)
    assert (march.previous_overall, march.previous_band) == (Decimal("12.3"), "at_risk")
    assert march.explanation["data"]["previous"] == {"overall": "12.3", "band": "at_risk"}


@pytest.mark.django_db
def test_a_previous_scorecard_that_is_gone_scores_again(rich_engagement):
    _compute(rich_engagement, FEBRUARY)
    _compute(rich_engagement)
    Scorecard.objects.filter(period_start=FEBRUARY).delete()
    assert _scorings(rich_engagement) == 1
    march = Scorecard.objects.get(period_start=MARCH)
    assert (march.previous_overall, march.previous_band, march.trend) == (None, "", None)
    assert march.explanation["data"]["previous"] is None


@pytest.mark.django_db
def test_the_migration_reads_the_previous_score_out_of_each_explanation(rich_engagement):
    from django.apps import apps

    record_previous_scores = import_module(
        "scorecards.migrations.0006_explanation_text_previous_score"
    ).record_previous_scores
    _compute(rich_engagement, FEBRUARY)
    _compute(rich_engagement)
    columns = Scorecard.objects.order_by("period_start").values_list(
        "previous_overall", "previous_band"
    )
    recorded = list(columns)
    Scorecard.objects.update(previous_overall=None, previous_band="")  # as before 0006
    record_previous_scores(apps, None)
    assert list(columns) == recorded
    assert recorded[0][1] == "" and recorded[1][1]  # February had none; March had February's
