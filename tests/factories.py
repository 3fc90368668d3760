from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from relationships.models import (
    SLA,
    Engagement,
    KeyContact,
    Measurement,
    Membership,
    Organization,
    SharedGoal,
)

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Organisation {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = "manager"


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    name = factory.Sequence(lambda n: f"Engagement {n}")
    client = factory.SubFactory(OrganizationFactory)
    provider = factory.SubFactory(OrganizationFactory)
    status = "active"
    phase = "active"
    start_date = date(2026, 1, 1)
    time_zone = "UTC"


class KeyContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyContact

    engagement = factory.SubFactory(EngagementFactory)
    side = "provider"
    name = factory.Sequence(lambda n: f"Contact {n}")
    role = "relationship_steward"
    start_date = date(2026, 1, 1)


class SLAFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SLA

    engagement = factory.SubFactory(EngagementFactory)
    owner_side = "provider"
    name = factory.Sequence(lambda n: f"SLA {n}")
    unit = "%"
    direction = "higher_is_better"
    target = Decimal("99.5")
    weight = Decimal("1")


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    sla = factory.SubFactory(SLAFactory)
    period_start = date(2026, 1, 1)
    period_end = factory.LazyAttribute(lambda m: m.period_start)
    value = Decimal("99.9")


class SharedGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SharedGoal

    engagement = factory.SubFactory(EngagementFactory)
    title = factory.Sequence(lambda n: f"Goal {n}")
    start_date = date(2026, 1, 1)
    due_date = date(2026, 12, 31)


# ---------------------------------------------------------------- feedback
from datetime import UTC, datetime  # noqa: E402

from feedback.models import ActionItem, CheckIn, ContributionReview, Feedback, Issue  # noqa: E402


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    engagement = factory.SubFactory(EngagementFactory)
    occurred_at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    kind = "sync"


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    engagement = factory.SubFactory(EngagementFactory)
    from_side = "client"
    kind = "appreciation"
    text = "Thanks for the quick turnaround on the release."


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue

    engagement = factory.SubFactory(EngagementFactory)
    title = factory.Sequence(lambda n: f"Issue {n}")
    responsible_side = "provider"
    raised_by_side = "provider"
    detected_at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    raised_at = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


class ContributionReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContributionReview

    issue = factory.SubFactory(IssueFactory)


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    engagement = factory.SubFactory(EngagementFactory)
    owner_side = "provider"
    description = factory.Sequence(lambda n: f"Action {n}")
    due_date = date(2026, 1, 31)
