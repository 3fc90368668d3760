from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from tests.dashboard.conftest import make_alert, make_scorecard, page_text
from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    EngagementFactory,
    FeedbackFactory,
    IssueFactory,
    KeyContactFactory,
    MeasurementFactory,
    SharedGoalFactory,
    SLAFactory,
)


def page(client, engagement):
    return client.get(reverse("engagement-detail", args=[engagement.pk]))


def populate(engagement, n: int, start: int = 0) -> None:
    """n of every record kind the engagement page lists."""
    for i in range(start, start + n):
        side = ("client", "provider")[i % 2]
        KeyContactFactory(engagement=engagement, side=side, name=f"Contact {i}")
        sla = SLAFactory(engagement=engagement, owner_side=side, name=f"SLA {i}")
        MeasurementFactory(sla=sla, period_start=date(2026, 3, 1), period_end=date(2026, 3, 31))
        SharedGoalFactory(engagement=engagement, title=f"Goal {i}")
        IssueFactory(engagement=engagement, responsible_side=side)
        ActionItemFactory(engagement=engagement, owner_side=side)
        CheckInFactory(engagement=engagement)
        FeedbackFactory(engagement=engagement)
        make_alert(engagement, period_start=date(2020 + i // 12, 1 + i % 12, 1), side=side)


def test_engagement_page_of_another_organisation_is_404(client, outsider, scored_engagement):
    client.force_login(outsider)
    assert page(client, scored_engagement).status_code == 404
    assert client.get(reverse("scorecard-export", args=[scored_engagement.pk])).status_code == 404


def test_missing_engagement_is_404(client, client_manager):
    client.force_login(client_manager)
    assert client.get(reverse("engagement-detail", args=[999999])).status_code == 404


def test_engagement_page_shows_scorecard_dimensions_and_explanation(
    client, provider_manager, scored_engagement
):
    client.force_login(provider_manager)
    response = page(client, scored_engagement)
    html = response.content.decode()
    assert response.status_code == 200
    assert "provider SLA &#x27;P1 response&#x27; met 3 of 4." in html
    sentiment = next(d for d in response.context["dimensions"] if d["name"] == "sentiment")
    assert sentiment["score"] is None
    assert "no data" in html
    assert 'id="score-history"' in html
    assert response.context["history"]["overall"] == [81.0, 76.0, 62.5]
    assert "Recompute now" in html


def test_engagement_page_query_count_is_bounded(
    client, provider_manager, scored_engagement, django_assert_max_num_queries
):
    client.force_login(provider_manager)
    populate(scored_engagement, 2)
    # Its records, the viewer's access read once (not again for who may change terms), the
    # governance map, contact continuity and the header's count of unread notices.
    with django_assert_max_num_queries(31) as small:
        page(client, scored_engagement)
    populate(scored_engagement, 20, start=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = page(client, scored_engagement)
    assert response.status_code == 200


def test_viewer_sees_no_write_controls(client, client_viewer, scored_engagement):
    client.force_login(client_viewer)
    html = page(client, scored_engagement).content.decode()
    assert "Recompute now" not in html
    assert "Acknowledge" not in html
    assert "Submit review" not in html


@pytest.mark.parametrize(
    "url_name",
    ["engagement-recompute", "scorecard-review", "alert-acknowledge"],
)
def test_viewer_post_is_refused_and_changes_nothing(
    client, client_viewer, scored_engagement, url_name
):
    scorecard = scored_engagement.scorecards.first()
    alert = scored_engagement.alerts.get()
    args = {
        "engagement-recompute": [scored_engagement.pk],
        "scorecard-review": [scored_engagement.pk, scorecard.pk],
        "alert-acknowledge": [alert.pk],
    }[url_name]
    client.force_login(client_viewer)
    response = client.post(reverse(url_name, args=args), {"decision": "signed"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert not scorecard.reviews.exists()


@pytest.mark.parametrize(
    "url_name", ["engagement-recompute", "scorecard-review", "alert-acknowledge"]
)
def test_outsider_post_is_404(client, outsider, scored_engagement, url_name):
    scorecard = scored_engagement.scorecards.first()
    args = {
        "engagement-recompute": [scored_engagement.pk],
        "scorecard-review": [scored_engagement.pk, scorecard.pk],
        "alert-acknowledge": [scored_engagement.alerts.get().pk],
    }[url_name]
    client.force_login(outsider)
    assert client.post(reverse(url_name, args=args), {"decision": "signed"}).status_code == 404


def test_scorecard_export_is_csv_history(client, client_viewer, scored_engagement):
    client.force_login(client_viewer)
    response = client.get(reverse("scorecard-export", args=[scored_engagement.pk]))
    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    # The same columns as the API's export.
    assert lines[0] == (
        "period_kind,period_start,period_end,as_of,status,band,overall,coverage,reliance,contact,"
        "transparency,dedication,alignment,sentiment,client_score,provider_score,perception_gap,"
        "trend,model_version,computed_at,frozen_at,changed_since_signoff_at"
    )
    assert len(lines) == 4
    assert lines[1].startswith("month,2026-01-01,2026-01-31")


def test_other_engagements_scorecard_cannot_be_reviewed_through_mine(
    client, client_manager, scored_engagement, client_org
):
    foreign = make_scorecard(EngagementFactory(), date(2026, 1, 1), 50)
    client.force_login(client_manager)
    url = reverse("scorecard-review", args=[scored_engagement.pk, foreign.pk])
    assert client.post(url, {"decision": "signed"}).status_code == 404


def test_proposed_engagement_page_renders_without_scorecard_or_write_controls(
    client, client_manager, client_org, provider_org
):
    proposed = EngagementFactory(client=client_org, provider=provider_org, status="proposed")
    client.force_login(client_manager)
    response = page(client, proposed)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Awaiting acceptance by" in html
    assert "Recompute now" not in html
    assert 'id="score-chart"' not in html


def test_recent_check_ins_are_the_newest_ten(client, engagement, client_viewer):
    # The check-ins query counts follow-ups; without an explicit order it came oldest first.
    from datetime import UTC, datetime, timedelta

    from tests.factories import CheckInFactory

    first = datetime(2026, 5, 1, 10, tzinfo=UTC)
    for week in range(12):
        CheckInFactory(engagement=engagement, occurred_at=first + timedelta(weeks=week))
    client.force_login(client_viewer)
    shown = client.get(engagement.get_absolute_url()).context["checkins"]
    assert [c.occurred_at for c in shown] == [
        first + timedelta(weeks=week) for week in range(11, 1, -1)
    ]


def test_feedback_list_dates_each_entry(client, client_manager, engagement):
    FeedbackFactory(
        engagement=engagement, created_at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC), text="Thanks"
    )
    client.force_login(client_manager)
    assert "from the client side on 2 Dec 2026: Thanks" in page_text(page(client, engagement))


@pytest.mark.parametrize(
    "status, phase, says",
    [
        ("active", "active", "Active phase · you are"),
        ("active", "pilot", "Pilot phase · you are"),
        ("archived", "active", "Active phase · Archived · you are"),
    ],
)
def test_header_says_phase_and_status_once(client, client_manager, engagement, status, phase, says):
    engagement.status, engagement.phase = status, phase
    engagement.save()
    client.force_login(client_manager)
    header = page_text(page(client, engagement)).split("Download scorecards")[0]
    assert says in header
    assert header.count("Active") == (1 if phase == "active" else 0)


def test_favicon_is_served_and_linked(client, client_manager, engagement):
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    response = client.get("/favicon.ico")
    assert (response.status_code, response.url) == (302, static("favicon.ico"))
    with open(finders.find("favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file
    client.force_login(client_manager)
    assert (
        f'<link rel="icon" href="{static("favicon.ico")}"'
        in page(client, engagement).content.decode()
    )
