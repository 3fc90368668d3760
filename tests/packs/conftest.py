"""A closed month with data on every dimension (tests.scorecards' March 2026), computed,
signed by both sides; review packs written under a temporary MEDIA_ROOT."""

from datetime import date

import pytest

from scorecards.compute import compute_chunk
from scorecards.models import Scorecard
from scorecards.services import scorecard_review
from tests.scorecards.conftest import APRIL_10, MARCH, populate, worker  # noqa: F401

# A day on which March 2026 has closed (its grace days are over).
TODAY = date(2026, 4, 20)


@pytest.fixture
def pack_worker(media_root, monkeypatch, request):
    """A real Celery worker (2 processes) that stores its files in the test's MEDIA_ROOT."""
    monkeypatch.setenv("MEDIA_ROOT", str(media_root))
    return request.getfixturevalue("worker")


@pytest.fixture
def fixed_today(monkeypatch):
    """Each engagement's today is TODAY: March is closed, April in progress."""
    from relationships.models import Engagement

    monkeypatch.setattr(Engagement, "today", lambda self: TODAY)
    return TODAY


def compute_march(engagement) -> Scorecard:
    compute_chunk([engagement.pk], "month", MARCH, APRIL_10)
    return Scorecard.objects.get(engagement=engagement, period_start=MARCH)


@pytest.fixture
def signed_march(engagement, client_manager, provider_admin, fixed_today):
    """March 2026 of the engagement, computed from known data and signed by both sides."""
    populate(engagement)
    scorecard = compute_march(engagement)
    scorecard_review(
        scorecard=scorecard, user=client_manager, decision="signed", comment="Agreed in the QBR."
    )
    scorecard_review(scorecard=scorecard, user=provider_admin, decision="signed", comment="Fair.")
    scorecard.refresh_from_db()
    return scorecard
