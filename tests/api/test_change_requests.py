"""Change requests to the terms through the API (PRODUCT.md §7, issue 18): nothing one-sided."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from relationships.models import SLA, ChangeRequest, Engagement, ScoringConfig, SharedGoal
from scorecards.models import OutboxEvent
from tests.factories import EngagementFactory, KeyContactFactory, SharedGoalFactory, SLAFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/change-requests/"


@pytest.fixture
def uptime(engagement):
    return SLAFactory(engagement=engagement, owner_side="provider", name="Uptime")


def _ask_target(api, user, sla, target="99.9"):
    return api(user).patch(f"/api/v1/slas/{sla.pk}/", {"target": target}, format="json")


def test_a_client_proposes_a_provider_slas_target_and_the_provider_accepts(
    api, uptime, client_manager, provider_manager, engagement
):
    asked = _ask_target(api, client_manager, uptime)

    assert asked.status_code == 202, asked.json()
    body = asked.json()
    assert body["status"] == "open" and body["subject"] == "sla" and body["sla"] == uptime.pk
    assert body["what"] == "SLA “Uptime”"
    assert body["proposed"] == {"target": "99.9"}
    assert body["changes"] == [{"what": "Target", "current": "99.5", "proposed": "99.9"}]
    assert body["requested_side"] == "client"
    assert body["url"] == f"/engagements/{engagement.pk}/#change-request-{body['id']}"
    uptime.refresh_from_db()
    assert uptime.target == Decimal("99.5")  # nothing changes until the other side agrees

    accepted = api(provider_manager).post(f"{URL}{body['id']}/accept/")

    assert accepted.status_code == 200, accepted.json()
    uptime.refresh_from_db()
    assert uptime.target == Decimal("99.9")
    assert uptime.history.first().history_user == provider_manager
    request = ChangeRequest.objects.get()
    assert request.status == "accepted"
    assert (request.requested_by, request.decided_by) == (client_manager, provider_manager)
    assert request.decided_at is not None
    assert request.current["target"] == "99.5" and request.replaced["target"] == "99.5"
    assert request.applies_from == engagement.current_period().start
    assert accepted.json()["applies_from"] == request.applies_from.isoformat()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("scoring-config", {"weights": {"reliance": 60}}),
        ("scoring-config", {"survey_threshold": 1}),
    ],
)
def test_one_sided_scoring_changes_only_ask(api, engagement, client_admin, path, body):
    answer = api(client_admin).patch(
        f"/api/v1/engagements/{engagement.pk}/{path}/", body, format="json"
    )

    assert answer.status_code == 202, answer.json()
    assert not ScoringConfig.objects.exists()
    assert ChangeRequest.objects.get().subject == "scoring_config"


def test_another_sides_sla_new_slas_goals_and_the_cadence_only_ask(
    api, engagement, uptime, client_manager, provider_manager
):
    goal = SharedGoalFactory(engagement=engagement, title="Halve P1s")
    writes = [
        api(client_manager).put(
            f"/api/v1/slas/{uptime.pk}/",
            {
                "owner_side": "provider",
                "name": "Uptime",
                "unit": "%",
                "direction": "higher_is_better",
                "target": "99.5",
                "weight": "3",
                "active": True,
                "description": "",
            },
            format="json",
        ),
        api(provider_manager).post(
            "/api/v1/slas/",
            {
                "engagement": engagement.pk,
                "owner_side": "client",
                "name": "Approvals within 2 days",
                "unit": "%",
                "direction": "higher_is_better",
                "target": "90",
            },
            format="json",
        ),
        api(client_manager).patch(f"/api/v1/goals/{goal.pk}/", {"cancelled": True}, format="json"),
        api(client_manager).post(
            "/api/v1/goals/",
            {
                "engagement": engagement.pk,
                "title": "Fewer escalations",
                "start_date": "2026-01-01",
                "due_date": "2026-06-30",
            },
            format="json",
        ),
        api(provider_manager).patch(
            f"/api/v1/engagements/{engagement.pk}/",
            {"checkin_cadence_days": 14, "scorecard_period": "quarter"},
            format="json",
        ),
    ]

    assert [answer.status_code for answer in writes] == [202] * 5, [w.json() for w in writes]
    assert list(ChangeRequest.objects.order_by("id").values_list("thing", flat=True)) == [
        f"sla:{uptime.pk}",
        "sla-new:approvals within 2 days",
        f"goal:{goal.pk}",
        "goal-new:fewer escalations",
        "engagement",
    ]
    assert writes[4].json()["what"] == "check-in cadence and period kind"
    uptime.refresh_from_db()
    goal.refresh_from_db()
    engagement.refresh_from_db()
    assert uptime.weight == 1 and not goal.cancelled
    assert SLA.objects.count() == 1 and SharedGoal.objects.count() == 1
    assert engagement.checkin_cadence_days == 7 and engagement.scorecard_period == "month"


def test_a_new_sla_exists_once_accepted(api, engagement, provider_manager, client_admin):
    asked = api(provider_manager).post(
        URL,
        {
            "engagement": engagement.pk,
            "subject": "sla",
            "values": {
                "owner_side": "client",
                "name": "Approvals within 2 days",
                "unit": "%",
                "direction": "higher_is_better",
                "target": 90.1,  # a JSON number: the decimal as written
                "description": "Change approvals",
            },
        },
        format="json",
    )
    assert asked.status_code == 202, asked.json()
    assert asked.json()["what"] == "new SLA “Approvals within 2 days”"
    assert not SLA.objects.exists()

    accepted = api(client_admin).post(f"{URL}{asked.json()['id']}/accept/")

    sla = SLA.objects.get()
    assert (sla.name, sla.target, sla.description) == (
        "Approvals within 2 days",
        Decimal("90.1"),
        "Change approvals",
    )
    assert accepted.json()["sla"] == sla.pk


def test_non_term_fields_change_directly_and_a_mix_is_refused(api, uptime, client_manager):
    direct = api(client_manager).patch(
        f"/api/v1/slas/{uptime.pk}/", {"description": "Monthly availability"}, format="json"
    )
    assert direct.status_code == 200
    uptime.refresh_from_db()
    assert uptime.description == "Monthly availability"

    mixed = api(client_manager).patch(
        f"/api/v1/slas/{uptime.pk}/",
        {"description": "Availability", "target": "99.9"},
        format="json",
    )
    assert mixed.status_code == 400
    assert "separately" in mixed.json()["errors"]["description"][0]
    uptime.refresh_from_db()
    assert uptime.description == "Monthly availability" and uptime.target == Decimal("99.5")
    assert not ChangeRequest.objects.exists()


# ---------------------------------------------------------------- proposed engagements
@pytest.fixture
def proposed(client_org, provider_org, client_manager):
    return EngagementFactory(
        client=client_org,
        provider=provider_org,
        status="proposed",
        proposed_by=client_manager,
        proposed_by_side="client",
    )


def test_the_proposer_sets_the_terms_of_a_proposed_engagement_directly(
    api, proposed, client_manager, client_admin, provider_admin
):
    created = api(client_manager).post(
        "/api/v1/slas/",
        {
            "engagement": proposed.pk,
            "owner_side": "provider",
            "name": "Uptime",
            "unit": "%",
            "direction": "higher_is_better",
            "target": "99.5",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    sla = SLA.objects.get()
    changed = api(client_manager).patch(f"/api/v1/slas/{sla.pk}/", {"target": "99"}, format="json")
    assert changed.status_code == 200 and changed.json()["target"] == "99.000000"
    config = api(client_admin).patch(
        f"/api/v1/engagements/{proposed.pk}/scoring-config/",
        {"survey_threshold": 2},
        format="json",
    )
    assert config.status_code == 200 and config.json()["survey_threshold"] == 2
    cadence = api(client_manager).patch(
        f"/api/v1/engagements/{proposed.pk}/", {"checkin_cadence_days": 10}, format="json"
    )
    assert cadence.status_code == 200 and cadence.json()["checkin_cadence_days"] == 10
    assert not ChangeRequest.objects.exists()

    # The counterpart accepts or declines the proposal; it does not edit it.
    refused = [
        api(provider_admin).patch(f"/api/v1/slas/{sla.pk}/", {"target": "98"}, format="json"),
        api(provider_admin).patch(
            f"/api/v1/engagements/{proposed.pk}/scoring-config/",
            {"survey_threshold": 3},
            format="json",
        ),
        api(provider_admin).post(
            URL,
            {"engagement": proposed.pk, "subject": "sla", "sla": sla.pk, "values": {"target": 1}},
            format="json",
        ),
    ]
    assert [answer.status_code for answer in refused] == [403, 403, 400]
    assert "accept it first" in refused[0].json()["detail"]
    sla.refresh_from_db()
    assert sla.target == Decimal("99")


def test_declined_and_archived_engagements_keep_their_terms(api, engagement, uptime, client_admin):
    Engagement.objects.filter(pk=engagement.pk).update(status="archived")
    answer = _ask_target(api, client_admin, uptime)
    assert answer.status_code == 403
    assert "archived" in answer.json()["detail"]
    assert not ChangeRequest.objects.exists()


# ---------------------------------------------------------------- who may do what
@pytest.fixture
def open_request(api, uptime, client_manager):
    return ChangeRequest.objects.get(pk=_ask_target(api, client_manager, uptime).json()["id"])


@pytest.mark.parametrize(
    ("who", "action", "expected"),
    [
        ("client_admin", "accept", 403),  # the side that asked
        ("client_manager", "decline", 403),
        ("provider_viewer", "accept", 403),
        ("provider_viewer", "comment", 403),
        ("client_viewer", "withdraw", 403),
        ("provider_manager", "withdraw", 403),  # only the side that asked withdraws
        ("outsider", "accept", 404),
        ("outsider", "comment", 404),
        ("provider_manager", "comment", 201),
        ("client_manager", "comment", 201),
        ("client_admin", "withdraw", 200),  # a writer of the side that asked
        ("provider_manager", "decline", 200),
        ("provider_admin", "accept", 200),
    ],
)
def test_who_may_decide_withdraw_and_comment(
    api, request, open_request, uptime, who, action, expected
):
    body = {"comment": {"body": "Why 99.9?"}, "decline": {"reason": "Not this quarter."}}
    answer = api(request.getfixturevalue(who)).post(
        f"{URL}{open_request.pk}/{action}/", body.get(action, {}), format="json"
    )

    assert answer.status_code == expected, answer.json()
    open_request.refresh_from_db()
    uptime.refresh_from_db()
    expected_status = {
        ("accept", 200): "accepted",
        ("decline", 200): "declined",
        ("withdraw", 200): "withdrawn",
    }.get((action, expected), "open")
    assert open_request.status == expected_status
    assert uptime.target == (Decimal("99.9") if expected_status == "accepted" else Decimal("99.5"))
    if action == "comment" and expected == 201:
        assert answer.json()["comments"][0]["body"] == "Why 99.9?"


def test_a_decision_is_final(api, open_request, provider_manager, client_manager):
    assert api(client_manager).post(f"{URL}{open_request.pk}/withdraw/").status_code == 200
    again = api(provider_manager).post(f"{URL}{open_request.pk}/accept/")
    assert again.status_code == 400
    assert "withdrawn" in again.json()["errors"]["status"][0]
    assert (
        api(provider_manager)
        .post(f"{URL}{open_request.pk}/comment/", {"body": "late"}, format="json")
        .status_code
        == 400
    )


def test_a_decline_needs_a_reason(api, open_request, provider_manager):
    answer = api(provider_manager).post(f"{URL}{open_request.pk}/decline/", {}, format="json")
    assert answer.status_code == 400 and "reason" in answer.json()["errors"]
    open_request.refresh_from_db()
    assert open_request.status == "open"


def test_one_open_request_per_thing(api, open_request, uptime, provider_manager):
    second = api(provider_manager).patch(
        f"/api/v1/slas/{uptime.pk}/", {"weight": "2"}, format="json"
    )

    assert second.status_code == 400
    message = second.json()["errors"]["non_field_errors"][0]
    assert f"#{open_request.pk}" in message and open_request.get_absolute_url() in message
    assert ChangeRequest.objects.count() == 1


def test_accepting_fails_cleanly_when_the_thing_changed_meanwhile(
    api, engagement, client_manager, provider_manager, client_admin
):
    first = SLAFactory(engagement=engagement, name="Uptime")
    rename = (
        api(client_manager)
        .patch(f"/api/v1/slas/{first.pk}/", {"name": "Availability"}, format="json")
        .json()["id"]
    )
    new = (
        api(provider_manager)
        .post(
            "/api/v1/slas/",
            {
                "engagement": engagement.pk,
                "owner_side": "provider",
                "name": "Availability",
                "unit": "%",
                "direction": "higher_is_better",
                "target": "99",
            },
            format="json",
        )
        .json()["id"]
    )
    assert api(client_admin).post(f"{URL}{new}/accept/").status_code == 200

    late = api(provider_manager).post(f"{URL}{rename}/accept/")

    assert late.status_code == 400
    assert "no longer apply" in late.json()["errors"]["status"][0]
    first.refresh_from_db()
    assert first.name == "Uptime"
    assert ChangeRequest.objects.get(pk=rename).status == "open"


# ---------------------------------------------------------------- bad values
@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"target": "lots"}, "target"),
        ({"target": "١٢"}, "target"),
        ({"target": "1.0000001"}, "target"),
        ({"weight": "0"}, "weight"),
        ({"direction": "sideways"}, "direction"),
        ({"active": "maybe"}, "active"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
        ({"target": "99.5"}, "non_field_errors"),  # the value in force
    ],
)
def test_bad_values_are_refused_and_create_nothing(
    api, engagement, uptime, client_manager, values, field
):
    answer = api(client_manager).post(
        URL,
        {"engagement": engagement.pk, "subject": "sla", "sla": uptime.pk, "values": values},
        format="json",
    )

    assert answer.status_code == 400, answer.json()
    named = field if field == "non_field_errors" else f"values.{field}"
    assert named in answer.json()["errors"], answer.json()
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"weights": {"luck": 5}}, "weights"),
        ({"weights": {"reliance": "٣٠"}}, "weights"),
        ({"weights": dict.fromkeys(("reliance", "contact", "transparency"), 0)}, None),
        ({"band_limits": {"watch_at": 90}}, "band_limits"),
        ({"survey_threshold": 0}, "survey_threshold"),
        ({"grace_days": 15}, "grace_days"),
        ({"grace_days": True}, "grace_days"),
    ],
)
def test_bad_scoring_values_are_refused_and_create_nothing(
    api, engagement, client_admin, values, field
):
    answer = api(client_admin).post(
        URL,
        {"engagement": engagement.pk, "subject": "scoring_config", "values": values},
        format="json",
    )
    if field is None:  # some weights at 0 are fine: the others carry the score
        assert answer.status_code == 202
        return
    assert answer.status_code == 400, answer.json()
    assert f"values.{field}" in answer.json()["errors"], answer.json()
    assert not ChangeRequest.objects.exists()


# ---------------------------------------------------------------- expiry and events
def test_an_open_request_expires_after_30_days(api, open_request, provider_manager):
    from relationships.tasks import expire_change_requests

    assert open_request.expires_at == open_request.requested_at + timedelta(days=30)
    assert (
        expire_change_requests.delay(
            (open_request.requested_at + timedelta(days=29)).isoformat()
        ).get()
        == 0
    )
    with_moment = open_request.requested_at + timedelta(days=30, seconds=1)
    assert expire_change_requests.delay(with_moment.isoformat()).get() == 1
    open_request.refresh_from_db()
    assert open_request.status == "expired"
    refused = api(provider_manager).post(f"{URL}{open_request.pk}/accept/")
    assert refused.status_code == 400


def test_accepting_an_expired_request_is_refused_before_the_task_ran(
    api, open_request, provider_manager, uptime
):
    ChangeRequest.objects.filter(pk=open_request.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    refused = api(provider_manager).post(f"{URL}{open_request.pk}/accept/")

    assert refused.status_code == 400
    assert "expired" in refused.json()["errors"]["status"][0]
    uptime.refresh_from_db()
    assert uptime.target == Decimal("99.5")


def test_events_reach_the_outbox(api, open_request, uptime, client_manager, provider_manager):
    api(provider_manager).post(
        f"{URL}{open_request.pk}/decline/", {"reason": "Not now."}, format="json"
    )
    again = _ask_target(api, client_manager, uptime, target="99.7").json()["id"]
    api(client_manager).post(f"{URL}{again}/withdraw/")
    third = _ask_target(api, client_manager, uptime, target="99.8").json()["id"]
    api(provider_manager).post(f"{URL}{third}/accept/")
    fourth = _ask_target(api, client_manager, uptime, target="99.6").json()["id"]
    from relationships.change_requests import change_requests_expire

    change_requests_expire(now=timezone.now() + timedelta(days=31))

    events = list(OutboxEvent.objects.order_by("id").values_list("kind", "payload"))
    assert [kind for kind, _ in events] == [
        "change_request.opened",
        "change_request.declined",
        "change_request.opened",
        "change_request.withdrawn",
        "change_request.opened",
        "change_request.accepted",
        "change_request.opened",
        "change_request.expired",
    ]
    declined = events[1][1]["change_request"]
    assert declined["decline_reason"] == "Not now." and declined["what"] == "SLA “Uptime”"
    assert declined["changes"] == [{"what": "Target", "current": "99.5", "proposed": "99.9"}]
    assert events[5][1]["change_request"]["applies_from"] is not None
    assert events[7][1]["change_request"]["id"] == fourth


def test_the_list_filters_and_reads_without_n_plus_1(
    api, engagement, uptime, client_manager, provider_manager, django_assert_max_num_queries
):
    for number in range(4):
        sla = SLAFactory(engagement=engagement, name=f"Response {number}")
        asked = _ask_target(api, client_manager, sla).json()["id"]
        api(provider_manager).post(f"{URL}{asked}/comment/", {"body": "Looking"}, format="json")
    _ask_target(api, provider_manager, uptime)
    today = timezone.now().date()

    with django_assert_max_num_queries(12):
        listed = api(client_manager).get(URL)
    assert listed.json()["count"] == 5
    query = {
        "requested_side": "provider",
        "status": "open",
        "subject": "sla",
        "engagement": engagement.pk,
        "requested_at_after": today.isoformat(),
    }
    assert api(client_manager).get(URL, query).json()["count"] == 1
    assert (
        api(client_manager).get(URL, {"requested_at_before": date(2020, 1, 1)}).json()["count"] == 0
    )
    assert api(client_manager).get(URL, {"status": "accepted"}).json()["count"] == 0


def test_goal_contacts_are_checked(api, engagement, client_manager):
    goal = SharedGoalFactory(engagement=engagement)
    provider_contact = KeyContactFactory(engagement=engagement, side="provider")
    wrong = api(client_manager).patch(
        f"/api/v1/goals/{goal.pk}/", {"client_contact": provider_contact.pk}, format="json"
    )
    assert wrong.status_code == 400
    right = api(client_manager).patch(
        f"/api/v1/goals/{goal.pk}/", {"provider_contact": provider_contact.pk}, format="json"
    )
    assert right.status_code == 202
    assert right.json()["changes"] == [
        {"what": "Provider contact", "current": "—", "proposed": provider_contact.name}
    ]


def test_change_request_events_read_sensibly_in_slack_and_teams(
    api, open_request, provider_manager
):
    import json

    from scorecards.webhooks.formats import render

    api(provider_manager).post(
        f"{URL}{open_request.pk}/decline/", {"reason": "<!channel> not now"}, format="json"
    )
    event = OutboxEvent.objects.get(kind="change_request.declined")
    for format in ("slack", "teams"):
        text = json.dumps(render(event.kind, event.payload, format), ensure_ascii=False)
        assert "Change request declined: Service desk" in text
        assert "Target" in text and "99.5 → 99.9" in text
        assert "not now" in text
    assert "<!channel>" not in json.dumps(render(event.kind, event.payload, "slack"))


def test_the_selector_splits_open_from_decided_in_three_queries(
    api, engagement, client_manager, provider_manager, django_assert_num_queries
):
    from relationships.change_requests import change_requests_of

    asked = [
        _ask_target(api, client_manager, SLAFactory(engagement=engagement)).json()["id"]
        for _ in range(3)
    ]
    api(provider_manager).post(f"{URL}{asked[0]}/comment/", {"body": "Hm"}, format="json")
    api(client_manager).post(f"{URL}{asked[1]}/withdraw/")

    with django_assert_num_queries(2):
        open_ones = [
            (r.pk, r.requested_by.username, [c.author.username for c in r.comments.all()])
            for r in change_requests_of(engagement)
        ]
    assert sorted(open_ones) == [
        (asked[0], "client-manager", ["provider-manager"]),
        (asked[2], "client-manager", []),
    ]
    assert [r.pk for r in change_requests_of(engagement, open=False)] == [asked[1]]
