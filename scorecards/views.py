"""Browser dashboard pages: portfolio, engagement, alerts and scorecard export.

Views stay thin: reads are single set-based queries (constant in the number of
engagements), writes go through the services of the app that owns the data.
"""

import csv
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    Avg,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from feedback.models import ActionItem, CheckIn, ContributionReview, Feedback
from feedback.selectors import reviews_with_completeness
from feedback.views import engagement_forms
from relationships.models import (
    SLA,
    Access,
    Engagement,
    GoalProgress,
    KeyContact,
    Measurement,
    Organization,
    ScoringConfig,
    Side,
)
from relationships.scoring_config import DIMENSIONS
from relationships.tenancy import engagement_with_access
from relationships.views import EngagementFormView, id_param
from scorecards import services
from scorecards.latest import latest_of_own_period
from scorecards.models import (
    Alert,
    Band,
    Scorecard,
    ScorecardReview,
    ScorecardRun,
)
from scorecards.scoring import goal_actual, goal_expected

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
    (None, "Last 6 periods", None),
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


def engagements_with_latest_scores(user):
    """The user's engagements annotated with their latest scorecard, open alerts, last check-in.

    One query for a page of any length: the latest scorecard is one small joined row,
    the alerts and check-in are subqueries evaluated only for the page's rows.
    """
    open_alerts = (
        Alert.objects.filter(engagement=OuterRef("pk"), resolved_at__isnull=True)
        .order_by()
        .values("engagement")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Engagement.objects.visible_to(user)
        .select_related("client", "provider")
        .alias(latest=latest_of_own_period())
        .annotate(
            latest_band=F("latest__band"),
            latest_overall=F("latest__overall"),
            latest_client=F("latest__client_score"),
            latest_provider=F("latest__provider_score"),
            latest_trend=F("latest__trend"),
            latest_gap=F("latest__perception_gap"),
            open_alerts=Coalesce(Subquery(open_alerts, output_field=IntegerField()), 0),
            last_checkin_on=Subquery(
                CheckIn.objects.filter(engagement=OuterRef("pk"))
                .order_by("-occurred_on")
                .values("occurred_on")[:1]
            ),
        )
    )


def overall_history(engagement_ids, periods: int = SPARKLINE_PERIODS) -> dict[int, list]:
    """The last `periods` overall scores of each engagement, oldest first, in one query."""
    ranked = (
        Scorecard.objects.filter(
            engagement_id__in=engagement_ids, period_kind=F("engagement__scorecard_period")
        )
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("engagement_id")], order_by=F("period_start").desc()
            )
        )
        .filter(rank__lte=periods)
        .order_by("engagement_id", "period_start")
        .values_list("engagement_id", "overall")
    )
    history: dict[int, list] = {pk: [] for pk in engagement_ids}
    for engagement_id, overall in ranked:
        history[engagement_id].append(overall)
    return history


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


def _query_without_page(request) -> str:
    """The current filters and sort, for the pagination links to carry."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _user_organization_ids(user) -> list[int]:
    return list(Organization.objects.of_member(user).values_list("pk", flat=True))


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
    own_orgs = _user_organization_ids(request.user)
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
    history = overall_history([e.pk for e in page])
    rows = []
    for engagement in page:
        counterpart = engagement.provider if engagement.client_id in own_orgs else engagement.client
        last = engagement.last_checkin_on
        rows.append(
            {
                "engagement": engagement,
                "counterpart": counterpart,
                "sparkline": Sparkline(history[engagement.pk]),
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
            "query": _query_without_page(request),
        },
    )


# ---------------------------------------------------------------- engagement page
RECENT = 10


def _by_side(items, side_of) -> dict[str, list]:
    grouped: dict[str, list] = {side: [] for side in Side.values}
    for item in items:
        grouped[side_of(item)].append(item)
    return grouped


def slas_with_attainment(engagement: Engagement, period) -> list[SLA]:
    """Active SLAs with their latest value and this period's attainment, in one query."""
    current = Q(measurements__superseded_at__isnull=True) & Q(
        measurements__period_start__range=(period.start, period.end)
    )
    met = Q(direction=SLA.Direction.HIGHER_IS_BETTER, measurements__value__gte=F("target")) | Q(
        direction=SLA.Direction.LOWER_IS_BETTER, measurements__value__lte=F("target")
    )
    latest = Measurement.objects.current().filter(sla=OuterRef("pk")).order_by("-period_start")
    return list(
        engagement.slas.filter(active=True).annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            period_measurements=Count("measurements", filter=current),
            period_met=Count("measurements", filter=current & met),
        )
    )


def goals_with_progress(engagement: Engagement, as_of) -> list:
    """Goals not cancelled, with expected and actual progress (percent) as of `as_of`."""
    latest_percent = (
        GoalProgress.objects.filter(goal=OuterRef("pk"), date__lte=as_of)
        .order_by("-date", "-pk")
        .values("percent")[:1]
    )
    goals = list(
        engagement.goals.filter(cancelled=False)
        .select_related("client_contact", "provider_contact")
        .annotate(latest_percent=Subquery(latest_percent))
    )
    for goal in goals:
        goal.expected_percent = round(100 * goal_expected(goal.start_date, goal.due_date, as_of))
        goal.actual_percent = round(100 * goal_actual(goal.achieved_on, goal.latest_percent, as_of))
        goal.behind = goal.actual_percent < goal.expected_percent
    return goals


def contribution_reviews(engagement: Engagement) -> list:
    """The engagement's contribution reviews with completeness and live action items by side."""
    live_items = ActionItem.objects.filter(cancelled=False).select_related("owner")
    reviews = list(
        reviews_with_completeness(ContributionReview.objects.filter(issue__engagement=engagement))
        .select_related("issue")
        .prefetch_related(Prefetch("action_items", live_items))
    )
    for review in reviews:
        items = _by_side(review.action_items.all(), lambda a: a.owner_side)
        review.sides = [(side, label, items[side]) for side, label in Side.choices]
    return reviews


def dimensions_of(scorecard: Scorecard) -> list[dict]:
    """The six dimensions with score, weight, per-side scores and the "why" lines."""
    explained = scorecard.explanation.get("dimensions", {})
    rows = []
    for name in DIMENSIONS:
        detail = explained.get(name, {})
        rows.append(
            {
                "name": name,
                "label": name.capitalize(),
                "score": getattr(scorecard, name),
                "weight": detail.get("weight"),
                "sides": detail.get("sides") or detail.get("views") or {},
                "why": detail.get("text", []),
            }
        )
    return rows


def score_history(engagement: Engagement) -> list[tuple]:
    """(period start, overall, client, provider) per period, oldest first, for the chart."""
    rows = engagement.scorecards.filter(period_kind=engagement.scorecard_period).order_by(
        "period_start"
    )
    return list(rows.values_list("period_start", "overall", "client_score", "provider_score"))


def chart_data(history: list) -> dict:
    """The score history as Chart.js series (numbers, None for gaps)."""
    series = {"labels": [], "overall": [], "client": [], "provider": []}
    for period_start, *scores in history:
        series["labels"].append(period_start.isoformat())
        for key, value in zip(("overall", "client", "provider"), scores, strict=True):
            series[key].append(None if value is None else float(value))
    return series


def _engagement(user, pk, action="read") -> tuple[Engagement, Access]:
    return engagement_with_access(
        user,
        pk,
        action=action,
        queryset=Engagement.objects.select_related("client", "provider", "archived_by"),
    )


@login_required
@require_GET
def engagement_detail(request, pk):
    return _render_engagement(request, *_engagement(request.user, pk))


def _render_engagement(
    request, engagement: Engagement, viewer: Access, *, review_form=None, status=200
):
    today = engagement.today()
    period = engagement.current_period(today)
    scorecard = (
        engagement.scorecards.filter(period_kind=engagement.scorecard_period)
        .prefetch_related(
            Prefetch(
                "reviews",
                ScorecardReview.objects.select_related("user").order_by("side", "-created_at"),
            )
        )
        .order_by("-period_start")
        .first()
    )
    contacts = KeyContact.objects.filter(engagement=engagement).order_by("role", "-start_date")
    open_issues = (
        engagement.issues.filter(resolved_at__isnull=True)
        .select_related("review")
        .order_by("-raised_at")
    )
    open_items = engagement.action_items.filter(
        completed_at__isnull=True, cancelled=False
    ).select_related("owner")
    alerts = engagement.alerts.select_related("acknowledged_by").order_by(
        F("resolved_at").desc(nulls_first=True), "-raised_at"
    )[: RECENT * 2]
    contacts = _by_side(contacts, lambda c: c.side)
    for side, side_contacts in contacts.items():
        contacts[side] = {
            "current": [c for c in side_contacts if c.is_current(today)],
            "upcoming": [c for c in side_contacts if c.start_date > today],
            "past": [c for c in side_contacts if c.end_date and c.end_date < today],
        }
    slas = _by_side(slas_with_attainment(engagement, period), lambda s: s.owner_side)
    issues = _by_side(open_issues, lambda i: i.responsible_side)
    items = _by_side(open_items, lambda a: a.owner_side)
    reviews = _reviews_by_side(scorecard) if scorecard else {}
    history = score_history(engagement)
    active_run = ScorecardRun.objects.filter(
        engagement=engagement,
        status__in=[ScorecardRun.Status.QUEUED, ScorecardRun.Status.RUNNING],
    ).first()
    requested_run = id_param(request.GET.get("run", ""))
    sides = [
        {
            "side": side,
            "label": label,
            "organization": engagement.organization_of(side),
            "is_mine": side == viewer.side,
            "contacts": contacts[side],
            "slas": slas[side],
            "issues": issues[side],
            "action_items": items[side],
            "review": reviews.get(side, {}),
        }
        for side, label in Side.choices
    ]
    context = {
        "engagement": engagement,
        "viewer": viewer,
        "period": period,
        "today": today,
        "scorecard": scorecard,
        "dimensions": dimensions_of(scorecard) if scorecard else [],
        "sides": sides,
        "history_rows": history,
        "history": chart_data(history),
        "goals": goals_with_progress(engagement, today),
        "checkins": CheckIn.objects.filter(engagement=engagement)
        .select_related("recorded_by")
        .annotate(follow_ups=Count("action_items", filter=Q(action_items__cancelled=False)))[
            :RECENT
        ],
        "feedback": Feedback.objects.filter(engagement=engagement).select_related("author")[
            :RECENT
        ],
        "alerts": alerts,
        "contribution_reviews": contribution_reviews(engagement),
        # Reviews usually follow a resolution: recent resolved issues can still get one.
        "resolved_without_review": engagement.issues.filter(
            resolved_at__isnull=False, review__isnull=True
        ).order_by("-resolved_at")[:RECENT],
        "scoring": scoring_summary(engagement),
        "active_run": active_run,
        # The page polls the run it just queued (?run=) or one still in progress.
        "poll_run_id": requested_run or (active_run.pk if active_run else None),
    }
    context["review_form"] = review_form or ReviewForm(auto_id=REVIEW_FORM_IDS)
    context.update(engagement_forms(engagement, viewer))
    return render(request, "dashboard/engagement.html", context, status=status)


def _reviews_by_side(scorecard: Scorecard) -> dict[str, dict]:
    """Each side's live review (if any) and its superseded (stale) reviews."""
    reviews = {side: {"live": None, "stale": []} for side in Side.values}
    for review in scorecard.reviews.all():
        if review.stale_at is None:
            reviews[review.side]["live"] = review
        else:
            reviews[review.side]["stale"].append(review)
    return reviews


# ---------------------------------------------------------------- scoring configuration
SCORING_CHANGES_SHOWN = 5


def scoring_summary(engagement: Engagement) -> dict:
    """The configuration the next computation uses (defaults if none) and its latest changes."""
    values = engagement.scoring_config_values()
    changes = ScoringConfig.history.filter(engagement_id=engagement.pk).select_related(
        "history_user"
    )
    return {
        "values": values,
        "weights": [(name.capitalize(), values.weights[name]) for name in DIMENSIONS],
        "changes": list(changes.order_by("-history_date")[:SCORING_CHANGES_SHOWN]),
    }


def _weight_field(name: str) -> str:
    return f"weight_{name}"


class ScoringConfigForm(forms.Form):
    """Weights per dimension, band limits and the survey threshold, prefilled with today's."""

    healthy_at = forms.FloatField(
        min_value=0, max_value=100, label="Healthy from overall", help_text="0 to 100."
    )
    watch_at = forms.FloatField(
        min_value=0,
        max_value=100,
        label="Watch from overall",
        help_text="0 to 100, not above the healthy limit; below it the band is at risk.",
    )
    min_coverage = forms.FloatField(
        min_value=0,
        max_value=1,
        label="Minimum coverage",
        help_text="0 to 1: the share of the weights with data below which the band is "
        "insufficient data.",
    )
    survey_threshold = forms.IntegerField(
        min_value=1,
        max_value=1000,
        label="Survey threshold",
        help_text="How many people of a side must answer before their view counts and is shown.",
    )

    def __init__(self, *args, engagement: Engagement, **kwargs):
        values = engagement.scoring_config_values()
        initial = {
            "healthy_at": values.healthy_at,
            "watch_at": values.watch_at,
            "min_coverage": values.min_coverage,
            "survey_threshold": values.survey_threshold,
            **{_weight_field(name): values.weights[name] for name in DIMENSIONS},
        }
        super().__init__(*args, initial=initial, **kwargs)
        for name in DIMENSIONS:
            self.fields[_weight_field(name)] = forms.FloatField(
                min_value=0, max_value=1000, label=f"{name.capitalize()} weight"
            )
        self.order_fields([_weight_field(name) for name in DIMENSIONS])

    def clean(self):
        cleaned = super().clean()
        healthy, watch = cleaned.get("healthy_at"), cleaned.get("watch_at")
        if healthy is not None and watch is not None and watch > healthy:
            self.add_error("watch_at", "The watch limit cannot be above the healthy limit.")
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "weights": {name: data[_weight_field(name)] for name in DIMENSIONS},
            "band_limits": {key: data[key] for key in ("healthy_at", "watch_at", "min_coverage")},
            "survey_threshold": data["survey_threshold"],
        }


class ScoringConfigUpdateView(EngagementFormView):
    form_class = ScoringConfigForm
    action = "administer"
    # The service names whole groups; their errors go beside the group's first field.
    service_error_fields = {"weights": _weight_field(DIMENSIONS[0]), "band_limits": "watch_at"}
    title = "Change the scoring"
    intro = (
        "Both sides see the configuration and who changed it. A change applies from the next "
        "computation; existing scorecards keep the configuration they were computed with."
    )
    success_message = (
        "Scoring configuration saved. It applies from the next computation; "
        "both sides see the change."
    )

    def get_form(self, data=None, files=None):
        return self.form_class(data, engagement=self.engagement)

    def perform(self, form):
        services.scoring_config_update(
            engagement=self.engagement, user=self.request.user, **form.service_arguments()
        )

    def get_success_url(self):
        return f"{engagement_url(self.engagement)}#scoring"


# ---------------------------------------------------------------- actions
# Own id prefix: the engagement page holds several forms with a "comment"-like field.
REVIEW_FORM_IDS = "review_%s"


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=ScorecardReview.Decision.choices,
        widget=forms.RadioSelect,
        label="Your decision",
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
        help_text="Required when you dispute: say what you think is wrong.",
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decision") == ScorecardReview.Decision.DISPUTED
            and not cleaned.get("comment", "").strip()
        ):
            self.add_error("comment", "Give a reason when you dispute a scorecard.")
        return cleaned


@login_required
@require_POST
def scorecard_review(request, pk, scorecard_pk):
    engagement, access = _engagement(request.user, pk)
    scorecard = get_object_or_404(engagement.scorecards, pk=scorecard_pk)
    access.require("write")
    form = ReviewForm(request.POST, auto_id=REVIEW_FORM_IDS)
    if form.is_valid():
        try:
            services.scorecard_review(
                scorecard=scorecard,
                user=request.user,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Your review is recorded and visible to both sides.")
            return redirect(f"{engagement_url(engagement)}#review")
    return _render_engagement(request, engagement, access, review_form=form, status=400)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


@login_required
@require_POST
def alert_acknowledge(request, pk):
    alert = get_object_or_404(
        Alert.objects.filter(engagement__in=Engagement.objects.visible_to(request.user)), pk=pk
    )
    engagement, _ = _engagement(request.user, alert.engagement_id, action="write")
    try:
        services.alert_acknowledge(alert=alert, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Alert acknowledged: {alert.message}")
    return redirect(_safe_next(request, f"{engagement_url(engagement)}#alerts"))


@login_required
@require_POST
def engagement_recompute(request, pk):
    engagement, access = _engagement(request.user, pk, action="write")
    try:
        run = services.request_recompute(engagement=engagement, user=request.user)
    except services.BrokerUnavailable:
        messages.error(
            request,
            "The scorecard job could not be queued because the job queue is unreachable. "
            "Nothing was lost; try again in a minute.",
        )
        # The page itself, answering 503: the button's action was not done.
        return _render_engagement(request, engagement, access, status=503)
    messages.info(request, "Recompute queued. This page shows when the new scorecard is ready.")
    return redirect(f"{engagement_url(engagement)}?run={run.pk}#scorecard")


@login_required
@require_GET
def run_status(request, pk):
    try:
        run = services.visible_run(run_id=pk, user=request.user)
    except ScorecardRun.DoesNotExist:
        raise Http404("No such run.") from None
    finished = run.status in (ScorecardRun.Status.SUCCEEDED, ScorecardRun.Status.FAILED)
    return JsonResponse(
        {
            "id": run.pk,
            "status": run.status,
            "status_display": run.get_status_display(),
            "finished": finished,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "scorecards_written": run.scorecards_written,
            "error": run.error if run.status == ScorecardRun.Status.FAILED else "",
        }
    )


def engagement_url(engagement: Engagement) -> str:
    return reverse("engagement-detail", args=[engagement.pk])


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# ---------------------------------------------------------------- alerts, export
ALERT_STATES = {
    "open": ("Open", Q(resolved_at__isnull=True)),
    "unacknowledged": ("Open, not acknowledged", Q(resolved_at__isnull=True, acknowledged_at=None)),
    "resolved": ("Resolved", Q(resolved_at__isnull=False)),
    "all": ("All", Q()),
}


@login_required
@require_GET
def alert_list(request):
    visible = Engagement.objects.visible_to(request.user)
    alerts = Alert.objects.filter(engagement__in=visible).select_related(
        "engagement", "acknowledged_by"
    )
    filters = {
        "state": request.GET.get("state", "open"),
        "kind": request.GET.get("kind", ""),
        "engagement": request.GET.get("engagement", ""),
    }
    if filters["state"] not in ALERT_STATES:
        filters["state"] = "open"
    alerts = alerts.filter(ALERT_STATES[filters["state"]][1])
    if filters["kind"] in Alert.Kind.values:
        alerts = alerts.filter(kind=filters["kind"])
    engagement_id = id_param(filters["engagement"])
    if engagement_id is not None:
        alerts = alerts.filter(engagement_id=engagement_id)
    alerts = alerts.order_by(F("resolved_at").desc(nulls_first=True), "-raised_at", "-pk")
    page = Paginator(alerts, PAGE_SIZE * 2).get_page(request.GET.get("page"))
    writable = set(
        Engagement.objects.writable_by(request.user)
        .filter(pk__in={alert.engagement_id for alert in page})
        .values_list("pk", flat=True)
    )
    for alert in page:
        alert.can_acknowledge = (
            alert.engagement_id in writable and alert.is_open and alert.acknowledged_at is None
        )
    return render(
        request,
        "dashboard/alerts.html",
        {
            "page": page,
            "filters": filters,
            "states": [(key, label) for key, (label, _) in ALERT_STATES.items()],
            "kinds": Alert.Kind.choices,
            "engagements": visible.only("pk", "name"),
            "query": _query_without_page(request),
        },
    )


EXPORT_FIELDS = [
    "period_kind",
    "period_start",
    "period_end",
    "as_of",
    "band",
    "overall",
    "coverage",
    *DIMENSIONS,
    "client_score",
    "provider_score",
    "perception_gap",
    "trend",
    "model_version",
    "computed_at",
    "frozen_at",
    "changed_since_signoff_at",
]


@login_required
@require_GET
def scorecard_export(request, pk):
    """The engagement's scorecard history as CSV, oldest period first."""
    engagement, _ = engagement_with_access(request.user, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="accord-engagement-{engagement.pk}-scorecards.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(EXPORT_FIELDS)
    rows = engagement.scorecards.order_by("period_kind", "period_start").values_list(*EXPORT_FIELDS)
    for row in rows.iterator(chunk_size=500):
        writer.writerow("" if value is None else value for value in row)
    return response
