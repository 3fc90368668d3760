"""Scoring model v1 against hand-computed examples (PRODUCT.md §3). No database."""

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import orjson
import pytest

from feedback.models import PULSE_FIELDS
from relationships.periods import period_containing
from relationships.scoring_config import config_values
from scorecards import scoring
from scorecards.inputs import (
    GOAL_ORDER,
    SLA_ORDER,
    ContactInput,
    EngagementInputs,
    GoalInput,
    PulseInput,
    RatioInput,
    SlaInput,
    deserialise,
    serialise,
)

MARCH = period_containing("month", date(2026, 3, 1))
DEFAULT = config_values()


def sla(sla_id, side, weight, met, n, direction="higher_is_better"):
    return SlaInput(
        sla_id, f"SLA {sla_id}", side, direction, Decimal("99"), Decimal(weight), "%", n, met
    )


def contact(**overrides) -> ContactInput:
    """Check-ins on 3 days of March, the last on the 20th; one expected a week."""
    values = dict(
        span_start=date(2026, 3, 1), cadence_days=7, held=3, last_checkin_on=date(2026, 3, 20)
    )
    values.update(overrides)
    return ContactInput(**values)


def full_inputs(**overrides) -> EngagementInputs:
    """The worked example: every dimension has data on both sides."""
    values = dict(
        name="Service desk",
        as_of=date(2026, 3, 31),
        contact=contact(),
        slas=(sla(1, "provider", 2, 3, 4), sla(2, "provider", 1, 1, 2), sla(3, "client", 1, 1, 1)),
        transparency={"provider": RatioInput(2, 4)},
        dedication={"provider": RatioInput(1, 2), "client": RatioInput(3, 3)},
        goals=(
            GoalInput(1, "Cut backlog", date(2026, 1, 1), date(2026, 5, 1), None, 50),
            GoalInput(2, "Runbook", date(2026, 1, 1), date(2026, 3, 15), date(2026, 2, 15), 80),
        ),
        pulse={"client": PulseInput(3, 36), "provider": PulseInput(3, 72)},
    )
    values.update(overrides)
    return EngagementInputs(**values)


def test_worked_example_scores_every_dimension_and_side():
    result = scoring.score_engagement(
        full_inputs(), DEFAULT, scoring.PreviousScore(Decimal("80.0"), "healthy")
    )
    stored = result.stored_fields()
    # contact: 31 days / 7 → 4 expected, 3 held → 75
    assert stored["contact"] == Decimal("75.0")
    # reliance: provider (2×3/4 + 1×1/2)/3 = 66.67, client 100 → 83.33
    assert result.side_dimensions["provider"]["reliance"] == Fraction(200, 3)
    assert stored["reliance"] == Decimal("83.3")
    # transparency: only the provider has issues: 2 of 4
    assert stored["transparency"] == Decimal("50.0")
    # dedication: provider 1/2, client 3/3 → 75
    assert stored["dedication"] == Decimal("75.0")
    # alignment: goal 1 expected 89/120, actual 1/2 → 60/89; goal 2 achieved → 1; mean 149/178
    assert result.dimensions["alignment"] == Fraction(14900, 178)
    assert stored["alignment"] == Decimal("83.7")
    # sentiment: client mean answer 2 → 25, provider 4 → 75
    assert stored["sentiment"] == Decimal("50.0")
    assert stored["perception_gap"] == Decimal("50.0")
    # overall = (30×250/3 + 15×75 + 15×50 + 15×75 + 15×14900/178 + 10×50) / 100 = 72.556
    assert stored["overall"] == Decimal("72.6")
    assert stored["band"] == "watch"
    assert stored["coverage"] == Decimal("1.00")
    assert stored["client_score"] == Decimal("100.0")
    # provider: (30×66.67 + 15×50 + 15×50) / 60
    assert stored["provider_score"] == Decimal("58.3")
    assert stored["trend"] == Decimal("-7.4")


def test_worked_example_alerts():
    inputs = full_inputs()
    previous = scoring.PreviousScore(Decimal("80.0"), "healthy")
    result = scoring.score_engagement(inputs, DEFAULT, previous)
    kinds = {(a.kind, a.side) for a in scoring.alerts_for(inputs, result, previous)}
    assert kinds == {("band_drop", ""), ("perception_gap", "")}


def test_no_data_dimensions_are_null_and_left_out():
    inputs = full_inputs(slas=(), transparency={}, dedication={}, goals=(), pulse={})
    result = scoring.score_engagement(inputs, DEFAULT)
    stored = result.stored_fields()
    assert stored["contact"] == Decimal("75.0")
    for name in ("reliance", "transparency", "dedication", "alignment", "sentiment"):
        assert stored[name] is None
    # contact alone: weighted mean over dimensions with data is contact itself
    assert stored["overall"] == Decimal("75.0")
    assert stored["coverage"] == Decimal("0.15")
    assert stored["band"] == "insufficient_data"
    assert stored["client_score"] is None and stored["provider_score"] is None
    assert stored["trend"] is None and stored["perception_gap"] is None


def test_coverage_at_threshold_is_banded():
    # contact 15 + reliance 30 = 45 of 100 ≥ 0.4
    inputs = full_inputs(transparency={}, dedication={}, goals=(), pulse={})
    stored = scoring.score_engagement(inputs, DEFAULT).stored_fields()
    assert stored["coverage"] == Decimal("0.45")
    # (30×83.33 + 15×75) / 45 = 80.56
    assert stored["overall"] == Decimal("80.6")
    assert stored["band"] == "healthy"


def test_engagement_ended_mid_period_scores_up_to_its_end():
    period = MARCH
    as_of = scoring.as_of_date(period, today=date(2026, 4, 20), engagement_end=date(2026, 3, 15))
    assert as_of == date(2026, 3, 15)
    # 15 days / 7 → 2 expected; check-ins on 2 and 9 March
    inputs = full_inputs(as_of=as_of, contact=contact(held=2, last_checkin_on=date(2026, 3, 9)))
    result = scoring.score_engagement(inputs, DEFAULT)
    assert result.stored_fields()["contact"] == Decimal("100.0")
    assert result.explanation["dimensions"]["contact"]["text"] == [
        "2 days with a check-in from 1 Mar 2026 to 15 Mar 2026 (15 days); "
        "a check-in every 7 days means 2 expected."
    ]


def test_period_in_progress_uses_today():
    as_of = scoring.as_of_date(MARCH, today=date(2026, 3, 10), engagement_end=None)
    assert as_of == date(2026, 3, 10)
    inputs = full_inputs(as_of=as_of, contact=contact(held=1, last_checkin_on=date(2026, 3, 9)))
    # 10 days / 7 → 1 expected, 1 held
    assert scoring.score_engagement(inputs, DEFAULT).stored_fields()["contact"] == Decimal("100.0")


def test_engagement_starting_mid_period_shortens_the_contact_span():
    as_of = date(2026, 3, 31)
    span_start, _ = scoring.contact_span(MARCH, date(2026, 3, 18), as_of)
    assert span_start == date(2026, 3, 18)
    inputs = full_inputs(contact=contact(span_start=span_start, held=0))
    result = scoring.score_engagement(inputs, DEFAULT)
    assert "to 31 Mar 2026 (14 days)" in result.explanation["dimensions"]["contact"]["text"][0]
    assert result.stored_fields()["contact"] == Decimal("0.0")


def test_engagement_starting_after_as_of_has_no_scorecard():
    with pytest.raises(ValueError):
        scoring.score_engagement(full_inputs(contact=contact(span_start=date(2026, 4, 2))), DEFAULT)


def test_side_without_slas_is_left_out_of_reliance():
    inputs = full_inputs(slas=(sla(1, "provider", 1, 1, 4),))
    result = scoring.score_engagement(inputs, DEFAULT)
    assert result.side_dimensions["client"]["reliance"] is None
    assert result.stored_fields()["reliance"] == Decimal("25.0")
    assert any(
        "No client SLA" in line for line in result.explanation["dimensions"]["reliance"]["text"]
    )


def test_low_side_reliance_alert():
    inputs = full_inputs(slas=(sla(1, "provider", 1, 1, 4), sla(2, "client", 1, 1, 1)))
    result = scoring.score_engagement(inputs, DEFAULT)
    alerts = scoring.alerts_for(inputs, result, None)
    assert [(a.kind, a.side) for a in alerts if a.kind == "side_reliance_low"] == [
        ("side_reliance_low", "provider")
    ]


@pytest.mark.parametrize(
    ("goal", "expected_score"),
    [
        # overdue, not achieved, 40% reported: expected 1 → 0.4
        (GoalInput(1, "Overdue", date(2026, 1, 1), date(2026, 3, 1), None, 40), Fraction(2, 5)),
        # starts on as_of: expected 0 → 1
        (GoalInput(2, "Starts now", date(2026, 3, 31), date(2026, 6, 30), None, None), Fraction(1)),
        # achieved before as_of: 1 whatever the percent
        (
            GoalInput(3, "Done", date(2026, 1, 1), date(2026, 6, 30), date(2026, 3, 5), 10),
            Fraction(1),
        ),
        # achieved after as_of: the latest percent counts. expected 89/180, actual 0.3 → 54/89
        (
            GoalInput(4, "Later", date(2026, 1, 1), date(2026, 6, 30), date(2026, 4, 5), 30),
            Fraction(54, 89),
        ),
        # ahead of schedule is capped at 1
        (GoalInput(5, "Ahead", date(2026, 1, 1), date(2026, 12, 31), None, 90), Fraction(1)),
        # no progress reported: 0
        (GoalInput(6, "Silent", date(2026, 1, 1), date(2026, 12, 31), None, None), Fraction(0)),
    ],
)
def test_goal_scores(goal, expected_score):
    result = scoring.score_engagement(full_inputs(goals=(goal,)), DEFAULT)
    assert result.dimensions["alignment"] == 100 * expected_score


def test_sentiment_views_come_from_the_published_sides_only():
    # feedback.selectors.survey_publications leaves out a side below the threshold.
    inputs = full_inputs(pulse={"provider": PulseInput(3, 72)})
    result = scoring.score_engagement(inputs, DEFAULT)
    assert result.sentiment_views["client"] is None
    assert result.stored_fields()["sentiment"] == Decimal("75.0")
    assert result.perception_gap is None
    inputs = full_inputs(pulse={"client": PulseInput(2, 24), "provider": PulseInput(3, 72)})
    result = scoring.score_engagement(inputs, DEFAULT)
    # client mean answer 2 → 25
    assert result.stored_fields()["perception_gap"] == Decimal("50.0")


def test_the_explanation_says_why_a_view_is_missing_without_counting_below_the_threshold():
    def sentences(inputs):
        return scoring.score_engagement(inputs, DEFAULT).explanation["dimensions"]["sentiment"][
            "text"
        ]

    text = sentences(full_inputs(pulse={}, final=False))
    assert text[0] == "The client view is published when the period closes."
    text = sentences(full_inputs(pulse={"provider": PulseInput(3, 72)}))
    assert text == [
        "Fewer than 3 client responses: not shown (anonymity threshold).",
        "The provider view is 75.0 from 3 responses.",
    ]


def test_explanation_dates_and_counts_read_as_the_pages_write_them():
    """Dates as "2 Dec 2026" (the pages' "j M Y"), and one day, issue, item or response in
    the singular: never "2026-12-02" or "day(s)"."""
    inputs = full_inputs(
        as_of=date(2026, 3, 2),
        contact=contact(cadence_days=1, held=1, last_checkin_on=date(2026, 2, 20)),
        transparency={"provider": RatioInput(1, 1)},
        dedication={"client": RatioInput(0, 1)},
        goals=(GoalInput(1, "Cut backlog", date(2026, 1, 1), date(2026, 5, 1), None, 50),),
        pulse={"client": PulseInput(1, 24)},
        survey_threshold=1,
    )
    result = scoring.score_engagement(inputs, DEFAULT)
    text = result.explanation["dimensions"]
    assert text["contact"]["text"] == [
        "1 day with a check-in from 1 Mar 2026 to 2 Mar 2026 (2 days); "
        "a check-in every day means 2 expected."
    ]
    assert text["transparency"]["text"][1] == (
        "The provider side raised 1 of the 1 issue it was responsible for."
    )
    assert text["dedication"]["text"][0] == (
        "The client side completed 0 of its 1 action item due so far on time."
    )
    assert text["alignment"]["text"] == [
        "Goal 'Cut backlog': expected 50% by 2 Mar 2026, actual 50%."
    ]
    assert text["sentiment"]["text"] == [
        "The client view is 75.0 from 1 response.",
        "Fewer than 1 provider response: not shown (anonymity threshold).",
    ]
    gap = next(a for a in scoring.alerts_for(inputs, result, None) if a.kind == "contact_gap")
    assert gap.message == "No check-in on Service desk since 20 Feb 2026."
    every_word = " ".join(line for d in text.values() for line in d["text"])
    assert "(s)" not in every_word and "2026-" not in every_word


@pytest.mark.parametrize(
    "day, text",
    [(date(2026, 12, 2), "2 Dec 2026"), (date(2027, 1, 31), "31 Jan 2027")],
)
def test_day_text_is_the_pages_date_format(day, text):
    from django.template.defaultfilters import date as date_filter

    assert scoring.day_text(day) == text == date_filter(day, "j M Y")


def test_weight_overrides_change_overall_and_coverage():
    config = config_values(weights={"sentiment": 0, "reliance": 60})
    inputs = full_inputs()
    result = scoring.score_engagement(inputs, config)
    # (60×250/3 + 15×75 + 15×50 + 15×75 + 15×14900/178) / 120
    expected = (
        60 * Fraction(250, 3) + 15 * 75 + 15 * 50 + 15 * 75 + 15 * Fraction(14900, 178)
    ) / 120
    assert result.overall == expected
    assert result.stored_fields()["coverage"] == Decimal("1.00")
    assert result.explanation["data"]["config"]["weights"]["reliance"] == 60.0


def test_score_drop_and_contact_gap_alerts():
    inputs = full_inputs(contact=contact(held=0, last_checkin_on=date(2026, 3, 16)))
    previous = scoring.PreviousScore(Decimal("90.0"), "insufficient_data")
    result = scoring.score_engagement(inputs, DEFAULT, previous)
    kinds = {a.kind for a in scoring.alerts_for(inputs, result, previous)}
    # 31 − 16 = 15 days > 14; no band_drop when a period has insufficient data
    assert "contact_gap" in kinds and "score_drop" in kinds and "band_drop" not in kinds
    never = full_inputs(contact=contact(held=0, last_checkin_on=None))
    assert "contact_gap" in {
        a.kind for a in scoring.alerts_for(never, scoring.score_engagement(never, DEFAULT), None)
    }


def test_contact_gap_boundary_is_more_than_twice_the_cadence():
    inputs = full_inputs(contact=contact(last_checkin_on=date(2026, 3, 17)))  # exactly 14 days
    result = scoring.score_engagement(inputs, DEFAULT)
    assert "contact_gap" not in {a.kind for a in scoring.alerts_for(inputs, result, None)}


def test_bands_are_decided_on_unrounded_values():
    # watch_at 72.56: the overall 72.556 rounds to 72.6 but is below the limit
    config = config_values(band_limits={"watch_at": 72.56})
    assert scoring.score_engagement(full_inputs(), config).band == "at_risk"


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Fraction(5, 100), 1, "0.1"),
        (Fraction(-5, 100), 1, "-0.1"),
        (Fraction(7225, 100), 1, "72.3"),
        (Fraction(1, 3), 2, "0.33"),
        (Fraction(2, 3), 1, "0.7"),
    ],
)
def test_round_half_up(value, places, expected):
    assert scoring.round_half_up(value, places) == Decimal(expected)


def test_stored_values_can_be_recomputed_from_the_explanation():
    result = scoring.score_engagement(
        full_inputs(), DEFAULT, scoring.PreviousScore(Decimal("80.0"), "healthy")
    )
    assert scoring.recompute_from_explanation(result.explanation) == result.stored_fields()


def test_explanation_speaks_in_words():
    result = scoring.score_engagement(full_inputs(), DEFAULT)
    reliance = result.explanation["dimensions"]["reliance"]["text"]
    assert "provider SLA 'SLA 1' (target ≥ 99 %, weight 2) met 3 of 4." in reliance
    assert result.explanation["dimensions"]["transparency"]["sides"]["provider"] == 50.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weights": {"loyalty": 5}},
        {"weights": {"contact": -1}},
        {"weights": {"contact": float("nan")}},
        {"weights": dict.fromkeys(scoring.DIMENSIONS, 0)},
        {"band_limits": {"watch_at": 80}},
        {"band_limits": {"min_coverage": 2}},
        {"survey_threshold": 0},
        {"survey_threshold": True},
    ],
)
def test_invalid_configuration_is_refused(kwargs):
    with pytest.raises(ValueError):
        config_values(**kwargs)


def test_lower_is_better_is_explained_with_its_operator():
    inputs = replace(full_inputs(), slas=(sla(1, "provider", 1, 2, 2, "lower_is_better"),))
    text = scoring.score_engagement(inputs, DEFAULT).explanation["dimensions"]["reliance"]["text"]
    assert text[0].startswith("provider SLA 'SLA 1' (target ≤ 99 %")


def test_integer_weights_scale_decimal_weights_by_their_common_denominator():
    config = config_values(weights={"sentiment": 0.1, "contact": 2.5})
    # 30, 5/2, 15, 15, 15, 1/10 → × 10
    assert scoring.integer_weights(config) == {
        "reliance": 300,
        "contact": 25,
        "transparency": 150,
        "dedication": 150,
        "alignment": 150,
        "sentiment": 1,
    }


def test_means_in_integers():
    assert scoring.mean([Fraction(1, 2), None, Fraction(1, 3)]) == Fraction(5, 12)
    assert scoring.mean([None, None]) is None
    scores = {"a": Fraction(1, 2), "b": None, "c": Fraction(1, 3)}
    # (2 × 1/2 + 1 × 1/3) / 3; b has no data, so its weight is left out
    assert scoring.weighted_mean(scores, {"a": 2, "b": 5, "c": 1}) == Fraction(4, 9)
    assert scoring.weighted_mean(scores, {"a": 0, "b": 5, "c": 0}) is None


def test_alignment_score():
    # the worked example's goals: 60/89 and 1 → 100 × 149/178
    goals = [(Fraction(89, 120), Fraction(1, 2)), (Fraction(1), Fraction(1))]
    assert scoring.alignment_score(goals) == Fraction(14900, 178)
    # expected 0 scores 1; ahead of schedule is capped at 1
    assert (
        scoring.alignment_score([(Fraction(0), Fraction(0)), (Fraction(1, 2), Fraction(9, 10))])
        == 100
    )
    assert scoring.alignment_score([]) is None


def test_explanation_data_is_the_serialised_inputs_and_reads_back_exactly():
    inputs = full_inputs()
    previous = scoring.PreviousScore(Decimal("80.0"), "healthy")
    data = scoring.score_engagement(inputs, DEFAULT, previous).explanation["data"]
    assert data == serialise(inputs, DEFAULT, previous)
    assert data["contact"] == {
        "span_start": "2026-03-01",
        "cadence_days": 7,
        "held": 3,
        "last_checkin_on": "2026-03-20",
    }
    read_back, config, previous_read = deserialise(orjson.loads(orjson.dumps(data)))
    # The same inputs, in the order they are explained.
    assert read_back == replace(
        inputs,
        slas=tuple(sorted(inputs.slas, key=SLA_ORDER)),
        goals=tuple(sorted(inputs.goals, key=GOAL_ORDER)),
    )
    assert (config, previous_read) == (DEFAULT, previous)
    zero = scoring.PreviousScore(Decimal("0.0"), "at_risk")
    assert serialise(inputs, DEFAULT, zero)["previous"] == {"overall": "0.0", "band": "at_risk"}
    assert deserialise(serialise(inputs, DEFAULT, zero))[2] == zero


def random_case(rng: random.Random):
    """Inputs, configuration and previous score as the computation could produce them."""
    as_of = date(2026, 1, 1) + timedelta(days=rng.randrange(400))
    span_start = as_of - timedelta(days=rng.randrange(92))
    weights = {
        name: rng.choice([0, 0.1, 1, 2.5, 10, 30]) for name in rng.sample(scoring.DIMENSIONS, 2)
    }
    config = config_values(
        weights=weights if sum(weights.values()) else None,
        band_limits=rng.choice([None, {"watch_at": 72.56}, {"min_coverage": 0.9}]),
        survey_threshold=rng.choice([None, 1, 2, 5]),
    )

    def ratios():
        return {
            side: RatioInput(rng.randrange(total + 1), total)
            for side in ("client", "provider")
            if rng.random() < 0.7
            for total in [rng.randrange(1, 20)]
        }

    inputs = EngagementInputs(
        name=f"Engagement {rng.randrange(1000)}",
        as_of=as_of,
        contact=ContactInput(
            span_start=span_start,
            cadence_days=rng.choice([1, 7, 14, 30]),
            held=rng.randrange((as_of - span_start).days + 2),
            last_checkin_on=rng.choice([None, as_of - timedelta(days=rng.randrange(60))]),
        ),
        slas=tuple(
            SlaInput(
                sla_id,
                f"SLA {rng.randrange(3)}",
                rng.choice(["client", "provider"]),
                rng.choice(["higher_is_better", "lower_is_better"]),
                Decimal(rng.choice(["99", "99.500000", "24.000000", "0.1"])),
                Decimal(rng.choice(["1", "2.5", "0.001", "3.000"])),
                rng.choice(["%", "h"]),
                n,
                rng.randrange(n + 1),
            )
            for sla_id in range(rng.randrange(6))
            for n in [rng.randrange(1, 40)]
        ),
        transparency=ratios(),
        dedication=ratios(),
        goals=tuple(
            GoalInput(
                goal_id,
                f"Goal {goal_id}",
                start,
                start + timedelta(days=rng.randrange(-3, 120)),
                rng.choice([None, start + timedelta(days=rng.randrange(90))]),
                rng.choice([None, rng.randrange(101)]),
            )
            for goal_id in range(rng.randrange(4))
            for start in [as_of - timedelta(days=rng.randrange(100))]
        ),
        pulse={
            side: PulseInput(
                respondents,
                rng.randrange(6 * respondents, 30 * respondents + 1),
                nps=rng.choice([None, (rng.randrange(5), rng.randrange(5), rng.randrange(1, 5))]),
                mirror={
                    name: (rng.randrange(3, 16), 3, rng.randrange(3, 16), 3)
                    for name in rng.sample(PULSE_FIELDS, rng.randrange(3))
                },
            )
            for side in ("client", "provider")
            if rng.random() < 0.7
            for respondents in [rng.randrange(1, 8)]
        },
    )
    previous = rng.choice(
        [
            None,
            scoring.PreviousScore(Decimal(rng.randrange(1000)).scaleb(-1), "watch"),
            scoring.PreviousScore(None, "insufficient_data"),
        ]
    )
    return inputs, config, previous


@pytest.mark.parametrize("seed", range(10))
def test_random_scorecards_rescore_from_their_stored_explanation(seed):
    rng = random.Random(seed)
    for _ in range(50):
        result = scoring.score_engagement(*random_case(rng))
        stored = orjson.loads(orjson.dumps(result.explanation))
        assert scoring.recompute_from_explanation(stored) == result.stored_fields()
        assert scoring.score_engagement(*deserialise(stored["data"])).explanation == stored


def test_disputed_values_are_explained_and_read_back_exactly():
    disputed = (
        replace(sla(1, "provider", 2, 3, 4), disputed=1),
        replace(sla(3, "client", 1, 1, 3), disputed=2),
        sla(2, "provider", 1, 1, 2),
    )
    inputs = full_inputs(slas=disputed)
    result = scoring.score_engagement(inputs, DEFAULT)
    reliance = result.explanation["dimensions"]["reliance"]["text"]
    assert (
        "provider SLA 'SLA 1' (target ≥ 99 %, weight 2) met 3 of 4, "
        "1 value disputed by the provider." in reliance
    )
    assert (
        "client SLA 'SLA 3' (target ≥ 99 %, weight 1) met 1 of 3, 2 values disputed by the client."
        in reliance
    )
    assert "provider SLA 'SLA 2' (target ≥ 99 %, weight 1) met 1 of 2." in reliance
    data = orjson.loads(orjson.dumps(result.explanation["data"]))
    assert [s.get("disputed") for s in data["reliance"]] == [2, 1, None]
    read_back = deserialise(data)[0]
    assert read_back.slas == tuple(sorted(disputed, key=SLA_ORDER))
    # A disputed value keeps counting: the score is the undisputed inputs' score.
    assert (
        result.stored_fields()
        == scoring.score_engagement(
            full_inputs(slas=tuple(replace(s, disputed=0) for s in disputed)), DEFAULT
        ).stored_fields()
    )


def test_explanations_stored_before_disputes_read_as_none_disputed_with_their_digest():
    from scorecards.compute import inputs_digest

    inputs = full_inputs()
    data = serialise(inputs, DEFAULT, None)
    assert all("disputed" not in s for s in data["reliance"])  # as stored before disputes
    read_back = deserialise(data)[0]
    assert {s.disputed for s in read_back.slas} == {0}
    assert inputs_digest(serialise(read_back, DEFAULT, None)) == inputs_digest(
        serialise(inputs, DEFAULT, None)
    )


def test_nps_and_mirror_are_words_only_and_absent_when_nobody_gave_them():
    from scorecards.compute import inputs_digest

    plain = full_inputs()
    client = plain.pulse["client"]
    # Client: 3 promoters, 1 passive, 1 detractor; it predicted 5, 5, 5 for trust, the
    # provider rated it 2, 2, 3 (d = 5 − 7/3 ≥ 1: a blind spot).
    answered = replace(
        plain,
        pulse={
            **plain.pulse,
            "client": replace(client, nps=(3, 1, 1), mirror={"trust_overall": (15, 3, 7, 3)}),
        },
    )
    words = scoring.score_engagement(answered, DEFAULT)
    assert words.stored_fields() == scoring.score_engagement(plain, DEFAULT).stored_fields()
    text = words.explanation["dimensions"]["sentiment"]["text"]
    assert (
        "The client's relationship NPS for the provider is +40 (3 promoters, 1 passive, "
        in (text[1])
    )
    assert text[2] == (
        "Blind spot of the client on 'Trust overall': it expected 5.0, the provider rated it 2.3."
    )
    data = serialise(plain, DEFAULT, None)
    # Answers without them serialise as before the survey's version 2: same digest.
    assert data["sentiment"]["client"] == {"respondents": 3, "answer_total": 36}
    assert deserialise(data)[0].pulse == plain.pulse
    assert inputs_digest(serialise(answered, DEFAULT, None)) != inputs_digest(
        serialise(plain, DEFAULT, None)
    )
    assert deserialise(serialise(answered, DEFAULT, None))[0].pulse == answered.pulse
