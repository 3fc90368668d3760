"""Fixtures for the reliability proofs: one engagement with a record of every kind, a
foreign engagement to reference by id, a broker and Celery processes of the test's own,
and the counts printed at the end of the run."""

import shutil
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.cache import cache
from django.utils import timezone

from tests.conftest import need
from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    ContributionReviewFactory,
    EngagementFactory,
    FeedbackFactory,
    IssueFactory,
    KeyContactFactory,
    MeasurementFactory,
    MembershipFactory,
    OrganizationFactory,
    SharedGoalFactory,
    SLAFactory,
    UserFactory,
)
from tests.reliability import faults_summary
from tests.reliability.fleet import Fleet, RedisServer, celery_app_on

# What the proofs checked, printed by pytest_terminal_summary below.
TALLY: Counter = Counter()

TALLY_LABELS = {
    "matrix_cells": "tenancy matrix cells checked",
    "foreign_references": "foreign-id references refused",
    "bad_inputs": "bad inputs tried (4xx, nothing changed)",
    "audited_writes": "API writes checked for an audit entry",
    "schemathesis_operations": "schemathesis operations",
    "schemathesis_examples": "schemathesis examples run",
}


def pytest_terminal_summary(terminalreporter):
    faults_summary.write_summary(terminalreporter)
    if not TALLY:
        return
    terminalreporter.section("reliability proofs")
    for key, label in TALLY_LABELS.items():
        if TALLY[key]:
            terminalreporter.write_line(f"{label}: {TALLY[key]}")


@pytest.fixture
def tally():
    return TALLY


PERSONAS = (
    "anonymous",
    "outsider",
    "client_viewer",
    "client_manager",
    "provider_manager",
    "client_admin",
)


def _made_portfolio_pack(organization, admin):
    from django.core.files.base import ContentFile

    from packs.models import PortfolioPack

    job = PortfolioPack.objects.create(
        organization=organization,
        quarter_start=date(2026, 1, 1),
        requested_by=admin,
        status=PortfolioPack.Status.SUCCEEDED,
    )
    job.file.save("packs.zip", ContentFile(b"PK\x05\x06" + bytes(18)))
    return job


@pytest.fixture
def world(
    engagement,
    client_org,
    provider_org,
    outsider_org,
    outsider,
    client_admin,
    client_manager,
    client_viewer,
    provider_admin,
    provider_manager,
    provider_viewer,
    settings,
):
    """One active engagement with a record of every kind, keyed by API URL prefix."""
    # No DNS on CI: the URL checks are tested in tests/scorecards/test_webhooks.py.
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    # Throttling counts requests across tests; its own tests are in test_production.
    cache.clear()
    from knox.models import get_token_model

    from feedback.services import pulse_submit
    from notices.models import Notice
    from notices.services import notice_raise
    from relationships.change_requests import terms_change
    from relationships.models import GoalProgress, MeasurementDispute, Membership
    from relationships.services import invitation_create
    from scorecards.models import Alert, Scorecard, ScorecardRun, WebhookSubscription
    from scorecards.webhooks.subscriptions import subscription_save

    goal = SharedGoalFactory(engagement=engagement)
    issue = IssueFactory(engagement=engagement)
    sla = SLAFactory(engagement=engagement)
    period_start = date(2026, 3, 1)
    invitation, raw_invitation = invitation_create(
        organization=client_org,
        email=provider_manager.email,
        role="viewer",
        invited_by=client_admin,
        send=False,
    )
    subscription = WebhookSubscription(
        organization=client_org,
        url="https://hooks.example.com/accord",
        events=["alert.raised"],
        created_by=client_admin,
    )
    _token, raw_token = get_token_model().objects.create(
        user=client_manager, expiry=None, name="ci"
    )
    objects = {
        "anonymous": None,
        "engagement": engagement,
        "organizations": client_org,
        "memberships": Membership.objects.get(user=client_viewer),
        "invitations": invitation,
        "invitation_token": raw_invitation,
        "engagements": engagement,
        "proposed": EngagementFactory(
            client=client_org,
            provider=provider_org,
            name="Proposed pilot",
            status="proposed",
            proposed_by_side="provider",
        ),
        "contacts": KeyContactFactory(
            engagement=engagement, side="client", email="dana@client.example"
        ),
        "slas": sla,
        # Open, asked by the provider's manager, about an SLA of its own (the others stay free).
        "change-requests": terms_change(
            engagement=engagement,
            user=provider_manager,
            subject="sla",
            sla=SLAFactory(engagement=engagement, name="Response time"),
            values={"target": "4"},
        ).change_request,
        "goals": goal,
        "goal-progress": GoalProgress.objects.create(goal=goal, date=period_start, percent=30),
        "checkins": CheckInFactory(engagement=engagement),
        "feedback": FeedbackFactory(engagement=engagement),
        "issues": issue,
        "fresh_issue": IssueFactory(engagement=engagement),
        "reviews": ContributionReviewFactory(issue=issue),
        "action-items": ActionItemFactory(engagement=engagement, owner_side="client"),
        # Recorded by the client for the provider's SLA: the provider may dispute it.
        "measurements": MeasurementFactory(
            sla=sla, period_start=period_start, recorded_by_side="client"
        ),
        "measurement-disputes": MeasurementDispute.objects.create(
            measurement=MeasurementFactory(
                sla=sla, period_start=date(2026, 3, 2), recorded_by_side="client"
            ),
            sla=sla,
            side="provider",
            reason="Our probe saw 99.5.",
            corrected_value=Decimal("99.5"),
        ),
        "pulse-responses": pulse_submit(
            engagement=engagement, user=client_manager, answers=dict.fromkeys(PULSE_ANSWERS, 4)
        ),
        "scorecards": Scorecard.objects.create(
            engagement=engagement,
            period_kind="month",
            period_start=period_start,
            period_end=date(2026, 3, 31),
            as_of=date(2026, 3, 31),
            overall=Decimal("80.0"),
            band="healthy",
            coverage=Decimal("0.85"),
            contact=Decimal("100.0"),
            computed_at=timezone.now(),
        ),
        "alerts": Alert.objects.create(
            engagement=engagement,
            period_kind="month",
            period_start=period_start,
            kind="contact_gap",
            message="No check-in for 20 days.",
            raised_at=timezone.now(),
        ),
        "runs": ScorecardRun.objects.create(
            trigger="on_demand",
            engagement=engagement,
            period_kind="month",
            period_start=period_start,
            requested_by=client_manager,
        ),
        "tokens": _token,
        "raw_token": raw_token,
        "webhooks": subscription_save(subscription=subscription, secret="s" * 32),
        # Asked by the client's admin, and made.
        "portfolio-packs": _made_portfolio_pack(client_org, client_admin),
        # A Slack channel the client's admins connected from the engagement's page.
        "channel": subscription_save(
            subscription=WebhookSubscription(
                organization=client_org,
                engagement=engagement,
                format="slack",
                url="https://hooks.example.com/slack",
                events=["alert.raised"],
                created_by=client_admin,
            ),
            secret="c" * 32,
        ),
        "foreign": foreign_records(
            EngagementFactory(
                client=outsider_org,
                provider=OrganizationFactory(name="Elsewhere Provider"),
                name="Foreign",
            )
        ),
        # The client's engagement with someone else: visible to the client's people,
        # but no record of it may be attached to the standing engagement.
        "sibling": foreign_records(
            EngagementFactory(
                client=client_org,
                provider=OrganizationFactory(name="Sibling Provider"),
                name="Sibling",
            )
        ),
    }
    # A notice of the client manager's own (the inbox's records are each member's).
    notice_raise(
        kind="alert",
        engagement=engagement,
        key="tenancy",
        subject="Tenancy",
        link="/",
        recipients=[client_manager.pk],
    )
    objects["me"] = Notice.objects.get(user=client_manager, key="tenancy")
    objects.update(
        outsider=outsider,
        client_admin=client_admin,
        client_manager=client_manager,
        client_viewer=client_viewer,
        provider_admin=provider_admin,
        provider_manager=provider_manager,
        provider_viewer=provider_viewer,
    )
    return objects


PULSE_ANSWERS = (
    "hear_often",
    "deliver_promises",
    "raise_problems_early",
    "follow_through",
    "same_goals",
    "trust_overall",
)


def foreign_records(foreign) -> dict:
    """One record of each kind that can be referenced by id, in another engagement."""
    issue = IssueFactory(engagement=foreign)
    member = MembershipFactory(
        user=UserFactory(username=f"member-of-{foreign.provider.name}"),
        organization=foreign.provider,
    )
    return {
        "engagement": foreign,
        "sla": (sla := SLAFactory(engagement=foreign)),
        "measurement": MeasurementFactory(sla=sla, recorded_by_side="client"),
        "goal": SharedGoalFactory(engagement=foreign),
        "issue": issue,
        "review": ContributionReviewFactory(issue=issue),
        "checkin": CheckInFactory(engagement=foreign),
        "client_contact": KeyContactFactory(engagement=foreign, side="client"),
        "provider_contact": KeyContactFactory(engagement=foreign, side="provider"),
        "user": member.user,
        "organization": foreign.provider,
    }


def domain_row_counts() -> dict[str, int]:
    """Rows of every table of Accord's own apps, audit tables included."""
    return {
        model._meta.label: model._default_manager.count()
        for app in ("relationships", "feedback", "scorecards", "packs", "notices")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.fixture
def row_counts():
    return domain_row_counts


@pytest.fixture
def broker(require_postgres, require_redis):
    need(shutil.which("redis-server") is not None, "redis-server")
    server = RedisServer()
    server.start()
    with celery_app_on(server.url):
        yield server
    server.stop()


@pytest.fixture
def fleet(broker, tmp_path):
    fleet = Fleet(broker, tmp_path)
    yield fleet
    fleet.close()
