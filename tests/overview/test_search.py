"""Search across the user's engagements, SLAs, goals, issues and check-in notes: full text
on PostgreSQL (its GIN indexes), icontains on SQLite; only the user's engagements; results
grouped by engagement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from overview.search import LIMIT, SEARCHED, _matching, full_text, search
from tests.dashboard.conftest import page_text, signed_in
from tests.factories import (
    CheckInFactory,
    EngagementFactory,
    IssueFactory,
    OrganizationFactory,
    SharedGoalFactory,
    SLAFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(engagement, client_org):
    """The word "firmware" in one record of each kind of the user's engagement, and in an
    issue of an engagement the provider's people do not see."""
    SLAFactory(engagement=engagement, name="Firmware patch time", owner_side="provider")
    SharedGoalFactory(engagement=engagement, title="Self-service", target="Firmware current")
    IssueFactory(engagement=engagement, title="Tills offline after the firmware upgrade")
    CheckInFactory(engagement=engagement, notes="We agreed a firmware freeze until January.")
    globex = OrganizationFactory(name="Globex Partners")
    other = EngagementFactory(name="Firmware rollout", client=client_org, provider=globex)
    IssueFactory(engagement=other, title="Firmware of the other engagement")
    return engagement


def test_finds_each_kind_grouped_by_engagement(records, provider_manager):
    results = search(provider_manager, "firmware")
    [group] = results.groups  # not the engagement the provider is no party to
    assert group.engagement == records
    assert [(hit.label, hit.text) for hit in group.hits] == [
        ("SLA", "Firmware patch time"),
        ("Goal", "Self-service"),
        ("Issue", "Tills offline after the firmware upgrade"),
        ("Check-in", "We agreed a firmware freeze until January."),
    ]
    base = records.get_absolute_url()
    assert [hit.url for hit in group.hits] == [
        f"{base}#side-provider",
        f"{base}#goals",
        f"{base}#side-provider",
        f"{base}#checkins",
    ]


def test_the_client_finds_both_of_its_engagements(records, client_manager):
    results = search(client_manager, "firmware")
    assert [group.engagement.name for group in results.groups] == [
        "Firmware rollout",
        "Service desk",
    ]
    assert [hit.label for hit in results.groups[0].hits] == ["Engagement", "Issue"]


def test_an_outsider_finds_nothing(records, outsider):
    assert search(outsider, "firmware").groups == []


@pytest.mark.skipif(not full_text(), reason="stemming is PostgreSQL's full-text search")
def test_full_text_matches_other_forms_of_a_word(records, provider_manager):
    """ "upgrades" finds "upgrade"; "tills offline" both words, anywhere in the text."""
    assert [h.label for h in search(provider_manager, "upgrades").groups[0].hits] == ["Issue"]
    assert search(provider_manager, "offline tills").count == 1


def test_more_matches_than_the_limit_say_so(engagement, provider_manager):
    IssueFactory.create_batch(LIMIT + 1, engagement=engagement, title="Printer jam")
    results = search(provider_manager, "printer")
    assert results.count == LIMIT and results.truncated == ["Issue"]


def test_a_fixed_number_of_queries(records, client_manager, client_org):
    with CaptureQueriesContext(connection) as few:
        search(client_manager, "firmware")
    for index in range(5):
        more = EngagementFactory(name=f"More {index}", client=client_org)
        IssueFactory(engagement=more, title="Firmware again")
        CheckInFactory(engagement=more, notes="Firmware talk")
    with CaptureQueriesContext(connection) as many:
        results = search(client_manager, "firmware")
    assert len(results.groups) == 7
    assert len(few) == len(many) == 2  # every kind in one UNION ALL, then the engagements


@pytest.mark.skipif(not full_text(), reason="the GIN indexes exist on PostgreSQL only")
@pytest.mark.parametrize("searched", SEARCHED, ids=lambda s: s.label)
def test_the_search_reads_its_gin_index(records, provider_manager, searched):
    """Each kind's document is the expression its index holds (migration 0001), so the plan
    can use it (sequential scans off: the tables are small here)."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    plan = _matching(searched, provider_manager, "firmware").explain()
    name = {
        "Engagement": "search_engagement",
        "SLA": "search_sla",
        "Goal": "search_goal",
        "Issue": "search_issue",
        "Check-in": "search_checkin",
    }[searched.label]
    assert f"Bitmap Index Scan on {name}" in plan


def test_the_page_groups_results_and_the_header_has_the_box(records, provider_manager):
    response = signed_in(provider_manager).get(reverse("search"), {"q": "firmware"})
    assert response.status_code == 200
    text = page_text(response)
    assert "4 matches for “firmware” in 1 engagement." in text
    assert "Issue Tills offline after the firmware upgrade" in text
    assert 'action="/search/"' in response.content.decode()
    portfolio = signed_in(provider_manager).get(reverse("portfolio"))
    assert 'id="site-search-q"' in portfolio.content.decode()


def test_the_page_alone_shows_the_box_and_an_empty_or_too_long_search_is_refused(
    provider_manager,
):
    client = signed_in(provider_manager)
    assert "matches" not in page_text(client.get(reverse("search")))
    response = client.get(reverse("search"), {"q": "  "})
    assert response.status_code == 400
    assert "Type a word to search for." in page_text(response)
    response = client.get(reverse("search"), {"q": "x" * 201})
    assert response.status_code == 400
    assert "at most 200 characters" in page_text(response)
