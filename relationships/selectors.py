"""Reads of the relationships domain that the dashboard pages and the API share."""

from django.db.models import Count, OuterRef, Q, Subquery

from relationships.continuity import Continuity, Holding, person_key, window_start
from relationships.continuity import contact_continuity as continuity_of
from relationships.disputes import open_disputes_count
from relationships.models import SLA, Engagement, GoalProgress, KeyContact, Measurement, Side


def slas_with_attainment(engagement: Engagement, period) -> list[SLA]:
    """Active SLAs with their latest value (and the side that recorded it) and this period's
    attainment and open disputes, in one query."""
    current = Q(measurements__superseded_at__isnull=True) & Q(
        measurements__period_start__range=(period.start, period.end)
    )
    latest = Measurement.objects.current().filter(sla=OuterRef("pk")).order_by("-period_start")
    return list(
        engagement.slas.filter(active=True).annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            latest_recorded_by_side=Subquery(latest.values("recorded_by_side")[:1]),
            period_disputed=open_disputes_count("pk", period),
            period_measurements=Count("measurements", filter=current),
            period_met=Count("measurements", filter=current & SLA.meets_target_q()),
        )
    )


def goals_with_progress(engagement: Engagement, as_of) -> list:
    """Goals not cancelled, with the latest progress percent reported on or before `as_of`."""
    latest_percent = (
        GoalProgress.objects.filter(goal=OuterRef("pk"), date__lte=as_of)
        .order_by("-date", "-pk")
        .values("percent")[:1]
    )
    return list(
        engagement.goals.filter(cancelled=False)
        .select_related("client_contact", "provider_contact")
        .annotate(latest_percent=Subquery(latest_percent))
    )


def contact_continuity(engagement: Engagement, on) -> dict[str, Continuity]:
    """Each side's contact continuity over the twelve months ending `on`
    (relationships.continuity), in one query; the engagement page and the review pack."""
    rows = KeyContact.objects.filter(engagement=engagement, start_date__lte=on).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=window_start(on))
    )
    holdings: dict[str, list[Holding]] = {side: [] for side in Side.values}
    for side, role, user_id, email, name, start, end in rows.values_list(
        "side", "role", "user_id", "email", "name", "start_date", "end_date"
    ):
        person = person_key(user_id=user_id, email=email, name=name)
        holdings[side].append(Holding(role=role, person=person, start=start, end=end))
    return {side: continuity_of(held, on=on) for side, held in holdings.items()}
