"""Issue 18, done when: a client manager proposes a provider SLA target change; nothing
changes until a provider manager accepts; the next provisional scorecard uses the new
target and the previous closed one does not, even when it is computed again."""

from datetime import date
from decimal import Decimal

import pytest

from scorecards.models import Scorecard
from tests.factories import MeasurementFactory, SLAFactory

pytestmark = pytest.mark.django_db

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
APRIL_10 = date(2026, 4, 10)  # March closed (5 grace days), April in progress


def _reliance(engagement, period_start) -> tuple[str, Decimal, int, int]:
    """The stored scorecard's status and its one SLA's target, values met and measured."""
    scorecard = Scorecard.objects.get(engagement=engagement, period_start=period_start)
    (sla,) = scorecard.explanation["data"]["reliance"]
    return scorecard.status, Decimal(sla["target"]), sla["met"], sla["measurements"]


def _recompute_from_march(api, user, engagement, capture):
    """March, then April: the queued runs compute in-process once the request commits."""
    with capture(execute=True):
        answer = api(user).post(
            f"/api/v1/engagements/{engagement.pk}/recompute/",
            {"period_start": MARCH.isoformat()},
            format="json",
        )
    assert answer.status_code == 202, answer.json()


def test_an_agreed_target_reaches_the_period_in_progress_and_not_the_closed_one(
    api, engagement, client_manager, provider_manager, on, django_capture_on_commit_callbacks
):
    with on(MARCH):
        uptime = SLAFactory(
            engagement=engagement, owner_side="provider", name="Uptime", target=Decimal("99.5")
        )
    for month in (MARCH, APRIL):
        for day, value in ((2, "99.6"), (3, "99.7")):
            MeasurementFactory(sla=uptime, period_start=month.replace(day=day), value=value)

    with on(APRIL_10):
        asked = api(client_manager).patch(
            f"/api/v1/slas/{uptime.pk}/", {"target": "99.9"}, format="json"
        )
        assert asked.status_code == 202, asked.json()
        _recompute_from_march(api, client_manager, engagement, django_capture_on_commit_callbacks)
        # Asked, not agreed: both periods are scored under 99.5.
        assert _reliance(engagement, MARCH) == ("final", Decimal("99.5"), 2, 2)
        assert _reliance(engagement, APRIL) == ("provisional", Decimal("99.5"), 2, 2)

        accepted = api(provider_manager).post(
            f"/api/v1/change-requests/{asked.json()['id']}/accept/"
        )
        assert accepted.status_code == 200, accepted.json()
        assert accepted.json()["applies_from"] == APRIL.isoformat()
        _recompute_from_march(
            api, provider_manager, engagement, django_capture_on_commit_callbacks
        )

        assert _reliance(engagement, MARCH) == ("final", Decimal("99.5"), 2, 2)
        assert _reliance(engagement, APRIL) == ("provisional", Decimal("99.9"), 0, 2)
