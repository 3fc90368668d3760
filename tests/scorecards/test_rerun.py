"""A recompute over unchanged inputs does not score again; any change in what a score
depends on (inputs, configuration, the previous period's score) does."""

from unittest import mock

import pytest

from scorecards import compute, scoring
from scorecards.models import Scorecard, ScoringConfig
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
def test_a_changed_configuration_scores_again(rich_engagement):
    _compute(rich_engagement)
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
