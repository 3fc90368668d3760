"""generate_data: deterministic, sized as asked, consistent with the scoring rules' inputs."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from feedback.models import ActionItem, CheckIn, Feedback, Issue, PulseResponse
from relationships.models import SLA, Engagement, Measurement, Membership, Organization
from sampledata.management.commands.generate_data import BENCH_USERNAME, domain_models

SIZE = {"engagements": 3, "slas_per_engagement": 4, "days": 45, "providers": 2}
END = "2026-03-31"


def generate(**overrides):
    options = {**SIZE, "end": date.fromisoformat(END), "reset": True, "no_progress": True}
    call_command("generate_data", **{**options, **overrides}, stdout=open("/dev/null", "w"))


def snapshot():
    """Row counts of every domain table and the values of the tables that feed scorecards."""
    return {
        "counts": {model._meta.db_table: model.objects.count() for model in domain_models()},
        "measurements": list(
            Measurement.objects.order_by("id").values_list(
                "id", "sla_id", "period_start", "value", "superseded_at", "supersedes_id"
            )
        ),
        "checkins": list(CheckIn.objects.order_by("id").values_list("occurred_at", "kind")),
        "issues": list(
            Issue.objects.order_by("id").values_list(
                "responsible_side", "raised_by_side", "detected_at", "raised_at", "resolved_at"
            )
        ),
        "actions": list(
            ActionItem.objects.order_by("id").values_list(
                "owner_side", "due_date", "completed_at", "cancelled"
            )
        ),
        "pulse": list(
            PulseResponse.objects.order_by("id").values_list(
                "respondent_id", "period_start", "trust_overall", "superseded_at"
            )
        ),
    }


@pytest.mark.django_db
def test_same_seed_twice_gives_identical_rows():
    generate()
    first = snapshot()
    generate()
    assert snapshot() == first
    assert first["counts"]["relationships_measurement"] >= 3 * 4 * 45


@pytest.mark.django_db
def test_another_seed_gives_other_values():
    generate()
    first = snapshot()
    generate(seed=2)
    second = snapshot()
    assert second["measurements"] != first["measurements"]


@pytest.mark.django_db
def test_one_current_value_per_sla_and_day_with_slas_on_both_sides():
    generate()
    assert Measurement.objects.current().count() == 3 * 4 * 45
    assert Measurement.objects.filter(superseded_at__isnull=False).count() == (
        Measurement.objects.filter(supersedes__isnull=False).count()
    )
    by_side = dict(SLA.objects.values_list("owner_side").annotate(n=Count("id")))
    assert by_side == {"client": 6, "provider": 6}
    assert set(SLA.objects.values_list("direction", flat=True)) == {
        "higher_is_better",
        "lower_is_better",
    }


@pytest.mark.django_db
def test_bench_manager_sees_every_engagement():
    generate()
    bench = Membership.objects.get(user__username=BENCH_USERNAME)
    assert bench.role == "manager"
    assert Engagement.objects.visible_to(bench.user).count() == 3
    assert Organization.objects.count() == 1 + 2


@pytest.mark.django_db
def test_local_dates_follow_the_engagement_time_zone():
    generate(engagements=10)
    assert len(set(Engagement.objects.values_list("time_zone", flat=True))) == 10
    for checkin in CheckIn.objects.select_related("engagement"):
        assert checkin.occurred_on == checkin.engagement.local_date(checkin.occurred_at)
    for issue in Issue.objects.select_related("engagement"):
        assert issue.raised_on == issue.engagement.local_date(issue.raised_at)
        assert issue.detected_at <= issue.raised_at
    for item in ActionItem.objects.select_related("engagement").filter(completed_at__isnull=False):
        assert item.completed_on == item.engagement.local_date(item.completed_at)
    for entry in Feedback.objects.select_related("engagement"):
        assert entry.created_on == entry.engagement.local_date(entry.created_at)


@pytest.mark.django_db
def test_at_least_three_survey_respondents_per_side_and_month():
    generate()
    per_side_month = (
        PulseResponse.objects.current()
        .values("engagement", "side", "period_start")
        .annotate(n=Count("respondent", distinct=True))
    )
    assert per_side_month and min(row["n"] for row in per_side_month) >= 3


@pytest.mark.django_db
def test_refuses_to_add_to_existing_data_without_reset():
    generate()
    with pytest.raises(CommandError, match="--reset"):
        generate(reset=False)


@pytest.mark.django_db
def test_postgres_copy_load_keeps_foreign_keys_valid(require_postgres):
    generate()
    with connection.cursor() as cursor:
        # COPY ran without the per-row foreign key triggers: check the references here.
        cursor.execute(
            "SELECT count(*) FROM relationships_measurement m "
            "LEFT JOIN relationships_sla s ON s.id = m.sla_id WHERE s.id IS NULL"
        )
        assert cursor.fetchone()[0] == 0
    # New rows get ids after the generated ones.
    assert (
        SLA.objects.create(
            engagement=Engagement.objects.first(),
            owner_side="client",
            name="New",
            unit="%",
            direction="higher_is_better",
            target=1,
        ).pk
        == SLA.objects.count()
    )
