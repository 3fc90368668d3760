"""The engagement page, and what its buttons post: review, recompute, run status, scoring."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Prefetch, Q
from django.http import Http404, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from feedback.forms import engagement_forms
from feedback.models import CheckIn, Feedback
from feedback.selectors import checkin_plan, contribution_reviews, governance_map, survey_report
from relationships import change_requests
from relationships import services as relationship_services
from relationships.forms import EngagementDeclineForm, add_service_errors
from relationships.models import (
    Access,
    ChangeRequest,
    Engagement,
    KeyContact,
    ScoringConfig,
    Side,
    other_side,
)
from relationships.pages import button_action, id_param
from relationships.periods import CLOSED
from relationships.scoring_config import DIMENSIONS, config_values, differences
from relationships.selectors import contact_continuity, goals_with_progress, slas_with_attainment
from relationships.tenancy import engagement_with_access
from relationships.terms_pages import TermsFormView, may_change_terms
from scorecards import services
from scorecards.forms import REVIEW_FORM_IDS, ReviewForm, ScoringConfigForm, weight_field
from scorecards.models import Scorecard, ScorecardRefresh, ScorecardReview, ScorecardRun
from scorecards.scoring import goal_actual, goal_expected
from scorecards.selectors import dimensions_of, reviews_by_side, score_history, scorecard_history
from scorecards.views.agreement import agreement_form, agreement_section

RECENT = 10
# A provisional scorecard brought up to date less than this long ago was "updated just now".
JUST_NOW = timedelta(minutes=1)
NO_PROVISIONAL = '"none"'  # the ETag of the provisional paragraph while there is none
DECLINE_FORM_IDS = "decline_%s"


def _by_side(items, side_of) -> dict[str, list]:
    grouped: dict[str, list] = {side: [] for side in Side.values}
    for item in items:
        grouped[side_of(item)].append(item)
    return grouped


def goals_on_track(engagement: Engagement, as_of) -> list:
    """Goals not cancelled, with expected and actual progress (percent) as of `as_of`."""
    goals = goals_with_progress(engagement, as_of)
    for goal in goals:
        goal.expected_percent = round(100 * goal_expected(goal.start_date, goal.due_date, as_of))
        goal.actual_percent = round(100 * goal_actual(goal.achieved_on, goal.latest_percent, as_of))
        goal.behind = goal.actual_percent < goal.expected_percent
    return goals


def chart_data(engagement: Engagement, history: list) -> dict:
    """The score history as Chart.js series (numbers, None for gaps), with each point's
    period page."""
    series = {
        "labels": [],
        "overall": [],
        "client": [],
        "provider": [],
        "urls": [],
        "provisional": [],
    }
    for period_start, *scores, status in history:
        series["provisional"].append(status == Scorecard.Status.PROVISIONAL)
        series["labels"].append(period_start.isoformat())
        series["urls"].append(
            reverse("engagement-period", args=[engagement.pk, period_start.isoformat()])
        )
        for key, value in zip(("overall", "client", "provider"), scores, strict=True):
            series[key].append(None if value is None else float(value))
    return series


def _engagement(user, pk, action="read") -> tuple[Engagement, Access]:
    return engagement_with_access(
        user,
        pk,
        action=action,
        queryset=Engagement.objects.select_related(
            "client", "provider", "proposed_by", "declined_by", "archived_by"
        ),
    )


@login_required
@require_GET
def engagement_detail(request, pk):
    return _render_engagement(request, *_engagement(request.user, pk))


def _render_engagement(
    request,
    engagement: Engagement,
    viewer: Access,
    *,
    review_form=None,
    decline_form=None,
    agreement_forms=None,
    status=200,
):
    today = engagement.today()
    period = engagement.current_period(today)
    # The headline is the latest closed period's; the provisional one stands beside it.
    scorecard = (
        scorecard_history(engagement)
        .filter(status=Scorecard.Status.FINAL)
        .prefetch_related(
            Prefetch(
                "reviews",
                ScorecardReview.objects.select_related("user").order_by("side", "-created_at"),
            )
        )
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
    reviews = reviews_by_side(scorecard) if scorecard else {}
    history = score_history(engagement)
    run = run_to_show(request, engagement)
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
    # Before both sides agreed nothing can be recorded: the page shows the proposal and its
    # terms, not the empty scorecard, history, review and logs.
    before_agreement = engagement.status in (
        Engagement.Status.PROPOSED,
        Engagement.Status.DECLINED,
    )
    first_period = engagement.current_period(engagement.start_date)
    first_closes = None
    if scorecard is None and engagement.period_state(first_period, today) != CLOSED:
        first_closes = engagement.period_closed_from(first_period)
    context = {
        "engagement": engagement,
        "viewer": viewer,
        "before_agreement": before_agreement,
        "proposal": {
            "proposer": engagement.organization_of(engagement.proposed_by_side),
            "counterpart": engagement.organization_of(other_side(engagement.proposed_by_side)),
        },
        "first_period": first_period,
        "first_closes": first_closes,
        "period": period,
        "today": today,
        "scorecard": scorecard,
        **provisional_section(engagement, scorecard),
        "dimensions": dimensions_of(scorecard) if scorecard else [],
        "sides": sides,
        "history_rows": history,
        "history": chart_data(engagement, history),
        "goals": goals_on_track(engagement, today),
        # Explicitly newest first: an aggregate query drops the model's default ordering.
        "checkins": CheckIn.objects.filter(engagement=engagement)
        .select_related("recorded_by")
        .annotate(follow_ups=Count("action_items", filter=Q(action_items__cancelled=False)))
        .order_by("-occurred_at", "-pk")[:RECENT],
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
        "run": run,
        "may_change": {
            # The viewer's access, read once above: no query per question.
            "terms": may_change_terms(
                engagement, request.user, ChangeRequest.Subject.SLA, access=viewer
            ),
            "scoring": may_change_terms(
                engagement, request.user, ChangeRequest.Subject.SCORING_CONFIG, access=viewer
            ),
        },
        "blind_spots_report": survey_report(engagement, engagement.latest_closed_period(today)),
        "governance": governance_context(engagement, today),
    }
    if engagement.status == Engagement.Status.ACTIVE:
        # The contacts and check-ins this page reads already: no more queries.
        context["checkins"] = recent_checkins = list(context["checkins"])
        context["checkin_plan"] = checkin_plan(
            engagement,
            timezone.now(),
            contacts=[c for s in sides for c in s["contacts"]["current"]],
            last_checkin_at=recent_checkins[0].occurred_at if recent_checkins else None,
        )
    if not before_agreement:
        context["agreement"] = agreement_section(request, engagement, viewer, forms=agreement_forms)
    context["review_form"] = review_form or ReviewForm(auto_id=REVIEW_FORM_IDS)
    context["decline_form"] = decline_form or EngagementDeclineForm(auto_id=DECLINE_FORM_IDS)
    context.update(engagement_forms(engagement, viewer))
    return render(request, "dashboard/engagement.html", context, status=status)


def governance_context(engagement: Engagement, today: date) -> dict:
    """The governance map and each side's contact continuity (shown, not scored)."""
    continuity = contact_continuity(engagement, today)
    return {
        "tiers": governance_map(engagement, today),
        "continuity": [
            {
                "label": label,
                "organization": engagement.organization_of(side),
                "figures": continuity[side],
                "changed": [
                    KeyContact.ContactRole(role).label for role in continuity[side].changed
                ],
            }
            for side, label in Side.choices
        ],
    }


def provisional_section(engagement: Engagement, headline: Scorecard | None) -> dict:
    """The provisional scorecard beside the headline (newer than it), and when it was last
    brought up to date: computed, or found current by a refresh after a write (PRODUCT.md §12)."""
    provisional = (
        scorecard_history(engagement)
        .filter(status=Scorecard.Status.PROVISIONAL)
        .filter(period_start__gt=headline.period_start if headline else date.min)
        .first()
    )
    if provisional is None:
        return {"provisional": None, "provisional_version": NO_PROVISIONAL}
    refreshed = (
        ScorecardRefresh.objects.filter(engagement=engagement, finished_at__isnull=False)
        .values_list("finished_at", flat=True)
        .first()
    )
    updated = max(provisional.computed_at, refreshed or provisional.computed_at)
    return {
        "provisional": provisional,
        "so_far": _difference(provisional, headline),
        "provisional_closes": engagement.period_closed_from(provisional.period),
        "provisional_updated": updated,
        "provisional_just_now": timezone.now() - updated < JUST_NOW,
        "provisional_version": f'"{provisional.pk}-{updated.timestamp()}"',
    }


@login_required
@require_GET
def engagement_provisional(request, pk):
    """The provisional scorecard's paragraph, which the engagement page polls to follow
    refreshes without a reload; 304 while it is the version the page has (its ETag)."""
    engagement, _ = _engagement(request.user, pk)
    headline = scorecard_history(engagement).filter(status=Scorecard.Status.FINAL).first()
    section = provisional_section(engagement, headline)
    version = section["provisional_version"]
    if version in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = render(
            request,
            "dashboard/_provisional.html",
            {"engagement": engagement, "scorecard": headline, **section},
        )
    response["ETag"] = version
    # The poll must reach the server each time: the browser keeps it only to revalidate.
    response["Cache-Control"] = "private, no-cache"
    return response


def run_to_show(request, engagement: Engagement) -> ScorecardRun | None:
    """The run a page's status line follows: the one its button just queued (?run=, of this
    engagement), else one of the engagement's still in progress."""
    runs = ScorecardRun.objects.filter(engagement=engagement)
    requested = id_param(request.GET.get("run", ""))
    return (requested and runs.filter(pk=requested).first()) or runs.filter(
        status__in=[ScorecardRun.Status.QUEUED, ScorecardRun.Status.RUNNING]
    ).first()


def _difference(provisional: Scorecard | None, final: Scorecard | None):
    """The provisional overall's difference to the last closed period's, "so far"."""
    if provisional is None or final is None or None in (provisional.overall, final.overall):
        return None
    return provisional.overall - final.overall


# ---------------------------------------------------------------- scoring configuration
SCORING_CHANGES_SHOWN = 5


def scoring_summary(engagement: Engagement) -> dict:
    """The configuration the next computation uses (defaults if none) and its latest changes."""
    values = engagement.scoring_config_values()
    # One more than shown: the oldest shown change is described against the one before it.
    records = list(
        ScoringConfig.history.filter(engagement_id=engagement.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: SCORING_CHANGES_SHOWN + 1]
    )
    changes = []
    for record, before in zip(records, [*records[1:], None][: len(records)], strict=True):
        old = before.instance.values() if before else config_values()
        changes.append({"record": record, "what": differences(old, record.instance.values())})
    return {
        "values": values,
        "weights": [(name.capitalize(), values.weights[name]) for name in DIMENSIONS],
        "changes": changes[:SCORING_CHANGES_SHOWN],
    }


class ScoringConfigUpdateView(TermsFormView):
    form_class = ScoringConfigForm
    subject = ChangeRequest.Subject.SCORING_CONFIG
    # The service names whole groups; their errors go beside the group's first field.
    service_error_fields = {"weights": weight_field(DIMENSIONS[0]), "band_limits": "watch_at"}
    title = "Change the scoring"
    success_anchor = "#scoring"


# ---------------------------------------------------------------- actions
@login_required
@require_POST
def engagement_decline(request, pk):
    """The counterpart's admin declines a proposal, with a reason both sides read on this
    page; without a reason, the page again (400) with the error beside the field."""
    engagement, access = _engagement(request.user, pk)
    form = EngagementDeclineForm(request.POST, auto_id=DECLINE_FORM_IDS)
    if form.is_valid():
        try:
            relationship_services.engagement_decline(
                engagement=engagement, user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            if "reason" in exc.message_dict:
                add_service_errors(form, exc)
            else:  # no longer proposed: the page shows what it is now
                messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Proposal declined. Both sides see your reason here.")
            return redirect(engagement)
    return _render_engagement(request, engagement, access, decline_form=form, status=400)


@login_required
@require_POST
def engagement_recompute(request, pk):
    engagement, access = _engagement(request.user, pk, action="write")
    try:
        run, *_ = services.request_recompute(engagement=engagement, user=request.user)
    except services.BrokerUnavailable:
        messages.error(
            request,
            "The scorecard job could not be queued because the job queue is unreachable. "
            "Nothing was lost; try again in a minute.",
        )
        # The page itself, answering 503: the button's action was not done.
        return _render_engagement(request, engagement, access, status=503)
    # The page says how the run goes (its status line), so no message of its own here.
    return redirect(f"{engagement.get_absolute_url()}?run={run.pk}#scorecard")


@login_required
@require_GET
def run_status(request, pk):
    try:
        run = services.visible_run(run_id=pk, user=request.user)
    except ScorecardRun.DoesNotExist:
        raise Http404("No such run.") from None
    figures = run.figures_for_members()
    return JsonResponse(
        {
            "id": run.pk,
            "status": run.status,
            "status_display": run.get_status_display(),
            "message": run.progress_text(),
            "period_start": run.period_start.isoformat() if run.period_start else None,
            "finished": run.is_finished,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "scorecards_written": figures["scorecards_written"],
            "error": figures["error"],
        }
    )


# ---------------------------------------------------------------- change requests
def _change_request(request, pk, action: str) -> tuple[ChangeRequest, Engagement, Access]:
    """The request (404 unless the user sees its engagement); 403 if the user may not
    `action` it while it is open, before any typing mistake is looked at."""
    change_request = get_object_or_404(ChangeRequest.objects.restrict(request.user), pk=pk)
    engagement, access = _engagement(request.user, change_request.engagement_id)
    change_request.engagement = engagement
    refusal = change_request.refusal(request.user, action, access)
    if refusal is not None and change_request.is_open:
        raise PermissionDenied(refusal)
    return change_request, engagement, access


def _change_request_button(request, pk, action: str, service, success: str):
    """Accept or withdraw: one button, then back to the request."""
    change_request, engagement, _ = _change_request(request, pk, action)
    return button_action(
        request,
        lambda: service(change_request=change_request, user=request.user),
        success=success,
        engagement=engagement,
        to=change_request.get_absolute_url(),
    )


@login_required
@require_POST
def change_request_accept(request, pk):
    return _change_request_button(
        request,
        pk,
        "accept",
        change_requests.change_request_accept,
        "Change accepted: it applies from the period in progress on.",
    )


@login_required
@require_POST
def change_request_withdraw(request, pk):
    return _change_request_button(
        request,
        pk,
        "withdraw",
        change_requests.change_request_withdraw,
        "Change request withdrawn; nothing changed.",
    )


def _change_request_form(request, pk, kind: str, act, success: str):
    """Decline (with a reason) or comment: the page again (400) with the error beside the
    request's field if the text is missing or too long."""
    change_request, engagement, access = _change_request(request, pk, kind)
    form = agreement_form(kind, change_request.pk, request.POST)
    if form.is_valid():
        try:
            act(change_request, form.cleaned_data)
        except ValidationError as exc:
            if not set(exc.message_dict) & set(form.fields):  # decided meanwhile
                messages.error(request, " ".join(exc.messages))
                return redirect(change_request.get_absolute_url())
            add_service_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(change_request.get_absolute_url())
    return _render_engagement(
        request, engagement, access, agreement_forms={(change_request.pk, kind): form}, status=400
    )


@login_required
@require_POST
def change_request_decline(request, pk):
    return _change_request_form(
        request,
        pk,
        "decline",
        lambda change_request, data: change_requests.change_request_decline(
            change_request=change_request, user=request.user, reason=data["reason"]
        ),
        "Change request declined; nothing changed. Both sides read your reason.",
    )


@login_required
@require_POST
def change_request_comment(request, pk):
    return _change_request_form(
        request,
        pk,
        "comment",
        lambda change_request, data: change_requests.change_request_comment(
            change_request=change_request, user=request.user, body=data["body"]
        ),
        "Comment added.",
    )
