"""A period's own page: its scorecard, explanation, alerts, joint review and inputs."""

from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.api.base import date_range_query
from feedback.selectors import survey_report
from relationships import disputes
from relationships.forms import add_service_errors
from relationships.models import Engagement, Side
from relationships.periods import CLOSED, IN_PROGRESS, MONTH, QUARTER, Period, period_containing
from relationships.tenancy import engagement_with_access
from scorecards import services
from scorecards.forms import REVIEW_FORM_IDS, ReviewForm
from scorecards.models import ScorecardReview
from scorecards.selectors import dimensions_of, reviews_by_side
from scorecards.views.engagement import run_to_show


def period_url(engagement: Engagement, period: Period) -> str:
    return reverse("engagement-period", args=[engagement.pk, period.start.isoformat()])


def _period_of(engagement: Engagement, start: str) -> Period:
    """The engagement's period that starts on `start`, between its start and today; else 404."""
    try:
        return engagement.period_starting(date.fromisoformat(start))
    except ValueError:
        raise Http404("This engagement has no such period.") from None


@login_required
@require_GET
def period_detail(request, pk, start):
    engagement, viewer = engagement_with_access(request.user, pk, action="read")
    return _render_period(request, engagement, viewer, _period_of(engagement, start))


@login_required
@require_POST
def scorecard_review(request, pk, scorecard_pk):
    """Sign or dispute a period's scorecard; back to the period's page, which shows it."""
    engagement, viewer = engagement_with_access(request.user, pk, action="write")
    scorecard = get_object_or_404(engagement.scorecards, pk=scorecard_pk)
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
            add_service_errors(form, error)
        else:
            messages.success(request, "Your review is recorded and visible to both sides.")
            return redirect(f"{period_url(engagement, scorecard.period)}#review")
    return _render_period(
        request, engagement, viewer, scorecard.period, review_form=form, status=400
    )


@login_required
@require_POST
def period_recompute(request, pk, start):
    """Recompute the period and the later ones, oldest first; back to its page, which
    follows the run."""
    engagement, viewer = engagement_with_access(request.user, pk, action="write")
    period = _period_of(engagement, start)
    try:
        run, *_later = services.request_recompute(
            engagement=engagement, user=request.user, period_start=period.start
        )
    except ValidationError as error:
        for message in error.message_dict.get("period_start", error.messages):
            messages.error(request, message)
        return _render_period(request, engagement, viewer, period, status=400)
    except services.BrokerUnavailable:
        messages.error(
            request,
            "The recompute could not be queued because the job queue is unreachable. "
            "Nothing was lost; try again in a minute.",
        )
        return _render_period(request, engagement, viewer, period, status=503)
    # The page's status line follows the run (and says that later periods follow it).
    return redirect(f"{period_url(engagement, period)}?run={run.pk}#scorecard")


def _recompute_refusal(engagement: Engagement, period: Period) -> str:
    """Why the period cannot be recomputed (frozen, or after the engagement ended); "" if it can."""
    try:
        services.recomputable_period(engagement=engagement, period_start=period.start)
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


def _render_period(request, engagement, viewer, period, *, review_form=None, status=200):
    scorecard = (
        engagement.scorecards.filter(period_kind=period.kind, period_start=period.start)
        .prefetch_related(
            Prefetch(
                "reviews",
                ScorecardReview.objects.select_related("user").order_by("side", "-created_at"),
            )
        )
        .first()
    )
    reviews = reviews_by_side(scorecard) if scorecard else {}
    survey = survey_report(engagement, period)
    periods = engagement.periods()
    index = periods.index(period)
    state = engagement.period_state(period)
    context = {
        "engagement": engagement,
        "viewer": viewer,
        "period": period,
        "state": state,
        # A monthly engagement's quarter has a review pack once its last month has closed.
        "closed_quarter": period.kind == MONTH
        and state == CLOSED
        and period.end == period_containing(QUARTER, period.start).end
        and period_containing(QUARTER, period.start),
        "in_progress": IN_PROGRESS,
        "closed_from": engagement.period_closed_from(period),
        "scorecard": scorecard,
        "dimensions": dimensions_of(scorecard) if scorecard else [],
        "alerts": engagement.alerts.filter(period_kind=period.kind, period_start=period.start)
        .select_related("acknowledged_by")
        .order_by("kind", "side"),
        "sides": [
            {
                "side": side,
                "label": label,
                "organization": engagement.organization_of(side),
                "review": reviews.get(side, {}),
            }
            for side, label in Side.choices
        ],
        "review_form": review_form or ReviewForm(auto_id=REVIEW_FORM_IDS),
        "periods": [(p, period_url(engagement, p)) for p in periods],
        "newer": period_url(engagement, periods[index - 1]) if index > 0 else None,
        "older": period_url(engagement, periods[index + 1]) if index + 1 < len(periods) else None,
        "inputs": _input_links(engagement, period),
        **_disputed_values(engagement, viewer, period),
        "recompute_refusal": viewer.can_write and _recompute_refusal(engagement, period),
        "run": run_to_show(request, engagement),
        "survey": survey,
        "survey_charts": [direction.chart() for direction in survey.directions()],
        "side_choices": Side.choices,
    }
    return render(request, "dashboard/period.html", context, status=status)


@login_required
@require_GET
def period_pick(request, pk):
    """The period picker's form: to the chosen period's page (the one in progress if none)."""
    engagement, _ = engagement_with_access(request.user, pk, action="read")
    start = request.GET.get("start") or engagement.current_period().start.isoformat()
    period = _period_of(engagement, start)
    return redirect(period_url(engagement, period))


def _disputed_values(engagement: Engagement, viewer, period: Period) -> dict:
    """The period's values recorded by the side not owning their SLA, and its disputes, each
    with what the viewer may do about it."""
    values = list(disputes.values_recorded_by_other_sides(engagement, period))
    for value in values:
        value.can_dispute = value.open_dispute_id is None and disputes.may_dispute(value, viewer)
    listed = list(disputes.disputes_in_period(engagement, period))
    for dispute in listed:
        dispute.can_withdraw = dispute.is_open and disputes.may_withdraw(dispute, viewer)
        dispute.can_accept = (
            dispute.is_open
            and dispute.corrected_value is not None
            and disputes.may_accept(dispute, viewer)
        )
    return {"other_side_values": values, "disputes": listed}


def _input_links(engagement: Engagement, period: Period) -> list[tuple[str, str]]:
    """What the period's scorecard is computed from, as the API lists it for this period."""
    inputs = [
        ("SLA measurements", "measurement-list", "period_start"),
        ("Check-ins", "checkin-list", "occurred_on"),
        ("Issues", "issue-list", "raised_on"),
        ("Action items due", "actionitem-list", "due_date"),
    ]
    return [
        (
            label,
            f"{reverse(name)}?"
            + urlencode({"engagement": engagement.pk, **date_range_query(field, period)}),
        )
        for label, name, field in inputs
    ] + [("Shared goals", f"{reverse('sharedgoal-list')}?engagement={engagement.pk}")]
