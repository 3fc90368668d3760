"""The differencing attack (PRODUCT.md §8) against every survey-derived output: the survey
report, the pulse aggregates, the scorecard and its explanation, the CSV export, the
events, and the period and engagement pages. Each is read before and after one more
respondent acts; no read may differ, so none tells what one respondent answered.

While the period is in progress nothing survey-derived is shown, so a 4th answer changes
nothing. Once it has closed, a new answer counts for the next period, and a respondent whose
account is deleted leaves their answers behind: before survey v2 the deletion took the
answers with it and a recomputed period (or the aggregates) differed by exactly that
person's answers.
"""

import csv
import io
import re
from datetime import date

import pytest
from django.test import Client

from feedback.models import PULSE_FIELDS
from scorecards.compute import compute_chunk
from scorecards.events import alert_raised, scorecard_computed
from scorecards.models import Scorecard
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
IN_MARCH, CLOSED_APRIL = date(2026, 3, 10), date(2026, 4, 10)
# Fields of a scorecard that say when it was computed, not what from.
WHEN = ("id", "computed_at", "as_of", "frozen_at")


def answer(api, organization, name, engagement, value):
    user = UserFactory(username=name)
    MembershipFactory(user=user, organization=organization, role="viewer")
    body = {
        "engagement": engagement.pk,
        **dict.fromkeys(PULSE_FIELDS, value),
        **{f"mirror_{field}": 6 - value for field in PULSE_FIELDS},
        "nps": 2 * value,
        "start_doing": f"Idea from {name}",
    }
    response = api(user).post("/api/v1/pulse-responses/", body, format="json")
    assert response.status_code == 201, response.json()
    return user


def section(html: str, section_id: str) -> str:
    found = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    return found.group(0) if found else ""


def reads(api, reader, engagement, today) -> dict:
    """Everything survey-derived that `reader` can get about March, on `today`."""
    compute_chunk([engagement.pk], "month", MARCH, today)
    scorecard = Scorecard.objects.get(engagement=engagement, period_start=MARCH)
    base = f"/api/v1/engagements/{engagement.pk}"
    query = f"?period_start={MARCH}"
    body = api(reader).get(f"/api/v1/scorecards/{scorecard.pk}/").json()
    export = api(reader).get(f"{base}/scorecards/export/")
    assert export.status_code == 200
    pages = Client()
    pages.force_login(reader)
    period_page = pages.get(f"/engagements/{engagement.pk}/periods/{MARCH}/").content.decode()
    engagement_page = pages.get(f"/engagements/{engagement.pk}/").content.decode()
    events = [scorecard_computed(engagement, scorecard)]
    events += [alert_raised(engagement, alert) for alert in engagement.alerts.order_by("pk")]
    for event in events:
        event.get("scorecard", {}).pop("id", None)
    return {
        "survey report": api(reader).get(f"{base}/survey-report/{query}").json(),
        "pulse aggregates": api(reader).get(f"{base}/pulse-aggregates/{query}").json(),
        "scorecard": {key: value for key, value in body.items() if key not in WHEN},
        "export": [
            {key: value for key, value in row.items() if key not in WHEN}
            for row in csv.DictReader(io.StringIO(export.content.decode()))
        ],
        "events": events,
        "period page": section(period_page, "survey"),
        "engagement page": section(engagement_page, "blind-spots"),
    }


def assert_same(before: dict, after: dict):
    telling = [output for output in before if after[output] != before[output]]
    assert telling == [], "these outputs tell the difference"


def test_no_read_differs_by_one_respondent(
    on, api, engagement, client_org, provider_org, client_viewer
):
    with on(IN_MARCH):
        for index, value in enumerate([5, 4, 3]):
            answer(api, client_org, f"client-{index}", engagement, value)
            answer(api, provider_org, f"provider-{index}", engagement, value)
        before = reads(api, client_viewer, engagement, IN_MARCH)
        fourth = answer(api, provider_org, "provider-4th", engagement, 1)
        assert_same(before, reads(api, client_viewer, engagement, IN_MARCH))
    assert before["survey report"]["provider"]["published"] is False
    assert "Idea from" not in before["period page"]

    with on(CLOSED_APRIL):
        published = reads(api, client_viewer, engagement, CLOSED_APRIL)
        # After the close: a 5th person answers (April's), a respondent changes their
        # mind (April's too), and one respondent's account is deleted.
        answer(api, provider_org, "provider-5th", engagement, 5)
        again = {"engagement": engagement.pk, **dict.fromkeys(PULSE_FIELDS, 5)}
        assert api(fourth).post("/api/v1/pulse-responses/", again, format="json").status_code == 201
        fourth.delete()
        assert_same(published, reads(api, client_viewer, engagement, CLOSED_APRIL))
    # The figures are published, and are the four answers of March.
    provider = published["survey report"]["provider"]
    assert provider["published"] is True and provider["respondents"] == 4
    assert provider["statements"][0]["mean"] == 3.25  # (5 + 4 + 3 + 1) / 4
    assert published["pulse aggregates"]["provider"]["respondents"] == 4
    assert "Idea from provider-4th" in published["period page"]
