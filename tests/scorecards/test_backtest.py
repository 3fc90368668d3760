"""What-if and back-test (PRODUCT.md §7): other weights and band limits tried on the last 12
closed periods and the provisional one, rescored from each scorecard's stored inputs; an SLA
target tried on the last 12 closed periods. Nothing is written."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from feedback.models import PulseResponse
from relationships.models import SLA, GoalProgress
from relationships.periods import period_containing
from relationships.scoring_config import config_values
from scorecards.backtest import scoring_backtest, sla_target_backtest
from scorecards.compute import compute_chunk, load_inputs
from scorecards.scoring import score_engagement
from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    IssueFactory,
    MeasurementFactory,
    SharedGoalFactory,
    SLAFactory,
)
from tests.reliability.conftest import PULSE_ANSWERS, domain_row_counts

pytestmark = pytest.mark.django_db

# On 10 March 2026 February is closed (5 grace days) and March in progress: the last 12
# closed periods are March 2025 to February 2026.
TODAY = date(2026, 3, 10)
FIRST = date(2025, 1, 1)
MONTHS = 15  # January 2025 to March 2026
TRIED = {
    "weights": {"reliance": 60, "contact": 5, "sentiment": 25},
    "band_limits": {"healthy_at": 70, "watch_at": 60},
}


def months(count: int = MONTHS) -> list:
    periods = [period_containing("month", FIRST)]
    while len(periods) < count:
        periods.append(periods[-1].next())
    return periods


def record_month(engagement, index: int, period, slas, goal, respondents):
    """A month of records on both sides that differs from month to month."""
    uptime, approvals = slas
    for day in (1, 8, 15, 22):
        MeasurementFactory(
            sla=uptime,
            period_start=period.start + timedelta(days=day - 1),
            value=Decimal("99.0") + Decimal("0.3") * (index * day % 4),
        )
    for day in (1, 15):
        MeasurementFactory(
            sla=approvals,
            period_start=period.start + timedelta(days=day - 1),
            value=Decimal(40 + (index * 7 + day) % 20),
        )
    moment = datetime.combine(period.start, datetime.min.time(), tzinfo=UTC)
    IssueFactory(
        engagement=engagement,
        responsible_side="provider",
        raised_by_side="provider" if index % 2 else "client",
        detected_at=moment + timedelta(days=2, hours=9),
        raised_at=moment + timedelta(days=2, hours=10),
    )
    for side in ("client", "provider"):
        on_time = (index + (side == "client")) % 3 != 0
        ActionItemFactory(
            engagement=engagement,
            owner_side=side,
            due_date=period.start + timedelta(days=19),
            completed_at=moment + timedelta(days=18 if on_time else 24, hours=12),
        )
    for week in range(index % 4 + 1):
        CheckInFactory(engagement=engagement, occurred_at=moment + timedelta(days=7 * week + 1))
    GoalProgress.objects.create(
        goal=goal, date=period.start + timedelta(days=14), percent=min(100, 5 + 6 * index)
    )
    for n, (side, respondent) in enumerate(respondents):
        answer = 4 if side == "client" else 1 + (index + n) % 4
        PulseResponse.objects.create(
            engagement=engagement,
            respondent=respondent,
            side=side,
            period_kind="month",
            period_start=period.start,
            **dict.fromkeys(PULSE_ANSWERS, answer),
        )


@pytest.fixture
def history(engagement, on):
    """15 months of records, January 2025 to March 2026, each month computed on 10 March
    2026 (oldest first, as runs chain them): 14 final scorecards and a provisional one."""
    engagement.start_date = FIRST
    engagement.save(update_fields=["start_date"])
    slas = (
        SLAFactory(engagement=engagement, owner_side="provider", name="Uptime"),
        SLAFactory(
            engagement=engagement,
            owner_side="client",
            name="Approvals",
            direction="lower_is_better",
            target=Decimal("48"),
            unit="h",
            weight=Decimal("2"),
        ),
    )
    goal = SharedGoalFactory(engagement=engagement, start_date=FIRST, due_date=date(2026, 6, 30))
    users = get_user_model().objects
    respondents = [
        (side, users.create(username=f"{side}-respondent-{n}"))
        for side in ("client", "provider")
        for n in range(3)
    ]
    for index, period in enumerate(months()):
        record_month(engagement, index, period, slas, goal, respondents)
    with on(TODAY):
        for period in months():
            compute_chunk([engagement.pk], "month", period.start, TODAY)
    return engagement


def tried_config(engagement):
    current = engagement.scoring_config_values()
    return config_values(
        weights={**current.weights, **TRIED["weights"]},
        band_limits=TRIED["band_limits"],
    )


def test_each_closed_period_rescored_equals_a_full_recomputation_from_the_raw_rows(
    require_postgres, history
):
    config = tried_config(history)
    rows = scoring_backtest(engagement=history, config=config)
    assert [(row.period.start, row.status) for row in rows] == [
        (date(2026, 3, 1), "provisional"),
        *[(period.start, "final") for period in reversed(months(14)[2:])],
    ]
    for row in rows[1:]:
        inputs = load_inputs([history], "month", row.period.start, TODAY)[history.pk]
        recomputed = score_engagement(inputs, config, None).stored_fields()
        assert (row.overall, row.band) == (recomputed["overall"], recomputed["band"]), row
        assert row.difference == row.overall - row.stored_overall
    # The tried configuration moves every score and changes some bands, so the comparison
    # above is about something.
    assert all(row.difference != 0 for row in rows)
    assert any(row.band_changed for row in rows)
    # Under the configuration in force, each period rescores to what it stored.
    unchanged = scoring_backtest(engagement=history, config=history.scoring_config_values())
    assert [(r.overall, r.band) for r in unchanged] == [
        (r.stored_overall, r.stored_band) for r in unchanged
    ]


def test_rescoring_writes_nothing_and_reads_in_two_queries(
    history, django_assert_num_queries, client_viewer
):
    before = domain_row_counts()
    config = tried_config(history)
    with django_assert_num_queries(2):
        rows = scoring_backtest(engagement=history, config=config)
    assert len(rows) == 13
    api = APIClient()
    api.force_authenticate(client_viewer)
    assert (
        api.post(f"/api/v1/engagements/{history.pk}/what-if/", TRIED, format="json").status_code
        == 200
    )
    assert domain_row_counts() == before


def test_an_engagement_without_scorecards_back_tests_to_nothing(engagement):
    assert scoring_backtest(engagement=engagement, config=config_values()) == []


# ---------------------------------------------------------------- the API
def api_as(user):
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


@pytest.mark.parametrize("persona", ["client_viewer", "provider_manager", "client_admin"])
def test_any_member_back_tests_through_the_api(history, persona, request):
    url = f"/api/v1/engagements/{history.pk}/what-if/"
    response = api_as(request.getfixturevalue(persona)).post(url, TRIED, format="json")
    assert response.status_code == 200, response.content
    rows = response.json()
    expected = scoring_backtest(engagement=history, config=tried_config(history))
    assert [
        (r["period_start"], r["status"], r["stored_band"], r["band"], r["band_changed"])
        for r in rows
    ] == [
        (e.period.start.isoformat(), e.status, e.stored_band, e.band, e.band_changed)
        for e in expected
    ]
    assert [Decimal(r["difference"]) for r in rows] == [e.difference for e in expected]


def test_outsiders_get_404_and_anonymous_401(history, outsider):
    url = f"/api/v1/engagements/{history.pk}/what-if/"
    assert api_as(outsider).post(url, TRIED, format="json").status_code == 404
    assert api_as(None).post(url, TRIED, format="json").status_code == 401


@pytest.mark.parametrize(
    "body, field",
    [
        ({"weights": {"reliance": -1}, "band_limits": {}}, "weights"),
        ({"weights": {"comfort": 10}, "band_limits": {}}, "weights"),
        (
            {
                "weights": dict.fromkeys(
                    ["reliance", "contact", "transparency", "dedication", "alignment", "sentiment"],
                    0,
                ),
                "band_limits": {},
            },
            "weights",
        ),
        ({"weights": {}, "band_limits": {"watch_at": 90}}, "band_limits"),
        ({"weights": {}, "band_limits": {"min_coverage": 2}}, "band_limits"),
        ({"weights": {}, "band_limits": {"healthy_at": "lots"}}, "band_limits"),
        ({"weights": {}}, "band_limits"),
        ({"weights": {}, "band_limits": {}, "survey_threshold": 1}, "survey_threshold"),
    ],
)
def test_bad_values_are_400_naming_the_field(history, client_viewer, body, field):
    before = domain_row_counts()
    response = api_as(client_viewer).post(
        f"/api/v1/engagements/{history.pk}/what-if/", body, format="json"
    )
    assert response.status_code == 400
    assert any(key.startswith(field) for key in response.json()["errors"])
    assert domain_row_counts() == before


# ---------------------------------------------------------------- the page
def test_the_page_is_prefilled_with_the_configuration_in_force(history, client, client_viewer):
    client.force_login(client_viewer)
    page = client.get(reverse("what-if", args=[history.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="weight_reliance" value="30.0"' in html
    assert 'name="healthy_at" value="75.0"' in html
    assert page.context["backtest"] is None
    assert 'id="backtest"' not in html


def test_the_page_shows_the_back_test_with_band_changes_in_words(history, client, client_viewer):
    client.force_login(client_viewer)
    query = {
        f"weight_{name}": value for name, value in history.scoring_config_values().weights.items()
    }
    query |= {f"weight_{name}": value for name, value in TRIED["weights"].items()}
    query |= {"healthy_at": 70, "watch_at": 60, "min_coverage": 0.4}
    before = domain_row_counts()
    page = client.get(reverse("what-if", args=[history.pk]), query)
    assert page.status_code == 200
    rows = page.context["backtest"]
    assert rows == scoring_backtest(engagement=history, config=tried_config(history))
    html = page.content.decode()
    assert html.count("Band changes") == sum(row.band_changed for row in rows)
    assert 'March 2026</a> <span class="badge">Provisional</span>' in html
    # What was typed stays in the form.
    assert 'name="weight_reliance" value="60"' in html
    assert domain_row_counts() == before


def test_bad_values_on_the_page_are_400_with_field_errors_and_kept(history, client, client_viewer):
    client.force_login(client_viewer)
    query = {f"weight_{name}": 0 for name in history.scoring_config_values().weights}
    query |= {"healthy_at": 50, "watch_at": 60, "min_coverage": "lots"}
    page = client.get(reverse("what-if", args=[history.pk]), query)
    assert page.status_code == 400
    html = page.content.decode()
    assert 'id="id_watch_at_error"' in html
    assert 'id="id_min_coverage_error"' in html
    assert 'name="min_coverage" value="lots"' in html
    assert page.context["backtest"] is None
    # The weights all 0: the scoring configuration's rule, beside the first weight.
    query |= {"healthy_at": 70, "min_coverage": 0.4}
    page = client.get(reverse("what-if", args=[history.pk]), query)
    assert page.status_code == 400
    assert 'id="id_weight_reliance_error"' in page.content.decode()


def test_outsiders_get_404_on_the_page(history, client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("what-if", args=[history.pk])).status_code == 404


def test_the_terms_link_to_the_page(history, client, client_viewer):
    client.force_login(client_viewer)
    html = client.get(history.get_absolute_url()).content.decode()
    assert f'href="{reverse("what-if", args=[history.pk])}"' in html


# ---------------------------------------------------------------- an SLA target
def test_sla_target_back_test_counts_by_hand(history, on, django_assert_num_queries):
    uptime = SLA.objects.select_related("engagement__scoring_config").get(name="Uptime")
    with on(TODAY), django_assert_num_queries(1):
        rows = sla_target_backtest(sla=uptime, target=Decimal("99.3"))
    assert [row.period.start for row in rows] == [p.start for p in reversed(months(14)[2:])]
    # Values 99.0 + 0.3 × (index × day % 4) on days 1, 8, 15, 22 (index: months since
    # January 2025): against 99.5, those with a remainder of 2 or 3 meet it; against 99.3,
    # 1, 2 or 3.
    for row in rows:
        index = (row.period.start.year - 2025) * 12 + row.period.start.month - 1
        remainders = [index * day % 4 for day in (1, 8, 15, 22)]
        assert row.measured == 4
        assert row.met_now == sum(r >= 2 for r in remainders)
        assert row.met_proposed == sum(r >= 1 for r in remainders)
        assert row.percent_now == Decimal(25 * row.met_now).quantize(Decimal("0.1"))
    with on(TODAY):
        lower = sla_target_backtest(sla=uptime, target=Decimal("99.3"), direction="lower_is_better")
    assert [row.met_proposed for row in lower] == [row.measured - row.met_now for row in rows]


def test_sla_target_back_test_through_the_api(history, on, client_viewer, outsider):
    uptime = SLA.objects.get(name="Uptime")
    url = f"/api/v1/slas/{uptime.pk}/target-backtest/"
    before = domain_row_counts()
    with on(TODAY):
        response = api_as(client_viewer).post(url, {"target": "99.3"}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()[0] == {
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "measured": 4,
            "met_now": 2,
            "met_proposed": 3,
            "percent_now": "50.0",
            "percent_proposed": "75.0",
        }
        assert api_as(outsider).post(url, {"target": "99.3"}, format="json").status_code == 404
        bad = api_as(client_viewer).post(url, {"target": "99.3", "direction": "up"}, format="json")
        assert bad.status_code == 400 and "direction" in bad.json()["errors"]
        missing = api_as(client_viewer).post(url, {}, format="json")
        assert missing.status_code == 400 and "target" in missing.json()["errors"]
    assert domain_row_counts() == before


def test_a_new_engagement_has_no_closed_period_to_back_test(engagement, on):
    sla = SLAFactory(engagement=engagement)
    with on(date(2026, 1, 20)):
        assert sla_target_backtest(sla=sla, target=Decimal("90")) == []
