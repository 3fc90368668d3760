"""The period page links to the API's lists of its inputs: each link answers (its filters
are the API's) and lists the period's records only, its first and last day included."""

import re
from datetime import UTC, date, datetime

import pytest

from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    IssueFactory,
    MeasurementFactory,
    SLAFactory,
)

pytestmark = pytest.mark.django_db

# The day before March, its first and last days, and the day after.
DAYS = [date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1)]
INSIDE = DAYS[1:3]


def _noon(day):
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def inputs(engagement):
    """A record of each input on each day, by the field the API lists it with."""
    sla = SLAFactory(engagement=engagement)
    for day in DAYS:
        MeasurementFactory(sla=sla, period_start=day)
        CheckInFactory(engagement=engagement, occurred_at=_noon(day))
        IssueFactory(engagement=engagement, detected_at=_noon(day), raised_at=_noon(day))
        ActionItemFactory(engagement=engagement, due_date=day)
    return {
        "SLA measurements": "period_start",
        "Check-ins": "occurred_on",
        "Issues": "raised_on",
        "Action items due": "due_date",
    }


def test_the_input_links_list_the_period_s_records(as_user, engagement, inputs, client_viewer):
    browser = as_user(client_viewer)
    page = browser.get(f"/engagements/{engagement.pk}/periods/2026-03-01/")
    assert page.status_code == 200
    section = page.content.decode().split('id="inputs"', 1)[1]
    links = {
        label: url.replace("&amp;", "&")
        for url, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', section)
    }
    assert set(inputs) <= set(links)
    for label, field in inputs.items():
        response = browser.get(links[label])
        assert response.status_code == 200, (label, links[label], response.content[:300])
        days = sorted(date.fromisoformat(row[field]) for row in response.json()["results"])
        assert days == INSIDE, (label, links[label])
