"""The portfolio: every engagement the user sees, with its latest scores, filtered and sorted."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Avg, Count, F, Q
from django.shortcuts import render
from django.views.decorators.http import require_GET

from relationships.models import Engagement, Organization
from relationships.pages import id_param, query_without_page
from relationships.periods import period_starting
from scorecards.models import Band
from scorecards.selectors import (
    engagements_with_latest_scores,
    latest_of_own_period,
    newest_provisional,
    overall_history,
)

PAGE_SIZE = 25
SPARKLINE_PERIODS = 6

# Portfolio columns: (URL sort key or None, heading, field). "-key" sorts descending;
# rows without a value come last either way, names break ties.
PORTFOLIO_COLUMNS = [
    ("name", "Engagement", "name"),
    (None, "Counterpart", None),
    ("phase", "Phase", "phase"),
    (None, "Band", None),
    ("overall", "Overall", "latest_overall"),
    ("client", "Client", "latest_client"),
    ("provider", "Provider", "latest_provider"),
    ("trend", "Trend", "latest_trend"),
    (None, "This period so far", None),
    (None, "Last 6 closed periods", None),
    ("gap", "Perception gap", "latest_gap"),
    ("alerts", "Open alerts", "open_alerts"),
    ("checkin", "Days since check-in", "last_checkin_on"),
]
PORTFOLIO_SORTS = {key: field for key, _, field in PORTFOLIO_COLUMNS if key}
NUMERIC_COLUMNS = {"overall", "client", "provider", "gap", "alerts", "checkin"}


def portfolio_ordering(sort: str) -> list:
    key = sort.removeprefix("-")
    descending = sort.startswith("-")
    field = F(PORTFOLIO_SORTS[key])
    if key == "checkin":
        # Days since grow as the last check-in date shrinks; "never" is the most days.
        ordering = field.asc(nulls_first=True) if descending else field.desc(nulls_last=True)
    else:
        ordering = field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
    return [ordering, "name", "pk"]


def sort_headers(request, sort: str) -> list[dict]:
    """Column headings; sortable ones link to their sort (keeping the filters, page 1).

    A second click on the sorted column reverses it; `aria_sort` marks the sorted column.
    """
    query = request.GET.copy()
    query.pop("page", None)
    headers = []
    for key, label, _ in PORTFOLIO_COLUMNS:
        header = {"label": label, "numeric": key in NUMERIC_COLUMNS, "url": None}
        if key:
            active = sort.removeprefix("-") == key
            descending = sort.startswith("-")
            query["sort"] = f"-{key}" if active and not descending else key
            header["url"] = f"?{query.urlencode()}"
            header["aria_sort"] = ("descending" if descending else "ascending") if active else None
        headers.append(header)
    return headers


@dataclass(frozen=True)
class Sparkline:
    """An inline SVG polyline of scores 0–100; gaps (no overall) are skipped."""

    values: list
    width: int = 96
    height: int = 24

    @property
    def points(self) -> str:
        step = self.width / max(1, len(self.values) - 1)
        return " ".join(
            f"{i * step:.1f},{self.height - float(v) / 100 * self.height:.1f}"
            for i, v in enumerate(self.values)
            if v is not None
        )

    @property
    def label(self) -> str:
        shown = ", ".join("no data" if v is None else f"{v}" for v in self.values)
        return f"Overall over the last {len(self.values)} periods: {shown}"


def portfolio_filter(filters: dict) -> Q:
    """The engagements the band, phase and counterpart filters keep (joined to `latest`)."""
    condition = Q()
    if filters["band"] in Band.values:
        condition &= Q(latest__band=filters["band"])
    elif filters["band"] == "none":
        condition &= Q(latest__band__isnull=True)
    if filters["phase"] in Engagement.Phase.values:
        condition &= Q(phase=filters["phase"])
    counterpart = id_param(filters["counterpart"])
    if counterpart is not None:
        condition &= Q(client_id=counterpart) | Q(provider_id=counterpart)
    return condition


@login_required
@require_GET
def portfolio(request):
    own_orgs = list(Organization.objects.of_member(request.user).values_list("pk", flat=True))
    filters = {
        "band": request.GET.get("band", ""),
        "phase": request.GET.get("phase", ""),
        "counterpart": request.GET.get("counterpart", ""),
        "sort": request.GET.get("sort", "name"),
    }
    if filters["sort"].removeprefix("-") not in PORTFOLIO_SORTS:
        filters["sort"] = "name"
    matching = portfolio_filter(filters)
    visible = Engagement.objects.visible_to(request.user)
    # One pass over every visible engagement and its small latest row: the summary
    # strip, and how many engagements the filters keep (the pagination's count).
    summary = visible.alias(latest=latest_of_own_period()).aggregate(
        total=Count("pk"),
        matching=Count("pk", filter=matching),
        average=Avg("latest__overall"),
        **{band.value: Count("pk", filter=Q(latest__band=band.value)) for band in Band},
    )
    engagements = (
        engagements_with_latest_scores(request.user)
        .filter(matching)
        .order_by(*portfolio_ordering(filters["sort"]))
    )
    paginator = Paginator(engagements, PAGE_SIZE)
    paginator.count = summary["matching"]
    page = paginator.get_page(request.GET.get("page"))
    history = overall_history([e.pk for e in page], SPARKLINE_PERIODS)
    provisional = newest_provisional([e.pk for e in page])
    rows = []
    for engagement in page:
        counterpart = engagement.provider if engagement.client_id in own_orgs else engagement.client
        last = engagement.last_checkin_on
        rows.append(
            {
                "engagement": engagement,
                "counterpart": counterpart,
                # Which closed period the headline figures are of.
                "headline": engagement.latest_period_start
                and period_starting(engagement.scorecard_period, engagement.latest_period_start),
                "sparkline": Sparkline(history[engagement.pk]),
                "provisional": provisional.get(engagement.pk),
                "days_since_checkin": (engagement.today() - last).days if last else None,
            }
        )
    # Read off the visible engagements' party ids, one pass per side (joining each
    # engagement to its organisations and removing duplicates cost four times as much).
    counterparts = Organization.objects.filter(
        Q(pk__in=visible.values("client_id")) | Q(pk__in=visible.values("provider_id"))
    ).exclude(pk__in=own_orgs)
    return render(
        request,
        "dashboard/portfolio.html",
        {
            "page": page,
            "rows": rows,
            "summary": summary,
            "band_counts": [(value, label, summary[value]) for value, label in Band.choices],
            "bands": Band.choices,
            "phases": Engagement.Phase.choices,
            "counterparts": counterparts,
            "headers": sort_headers(request, filters["sort"]),
            "filters": filters,
            "query": query_without_page(request),
        },
    )
