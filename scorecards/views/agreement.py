"""The engagement page's Agreement section (PRODUCT.md §7): the open change requests with
what the viewer may do about them, then the decided ones, the audit trail of the terms."""

from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import F
from django.db.models.functions import Coalesce

from relationships.change_requests import change_requests_of
from relationships.forms import ChangeRequestCommentForm, ChangeRequestDeclineForm
from relationships.models import SLA, Access, ChangeRequest, Engagement, other_side
from relationships.periods import period_containing
from scorecards.backtest import scoring_backtest, sla_target_backtest, whatif_config

DECIDED_SHOWN = 10
# Each request's forms get their own ids: the section holds one pair per open request.
FORM_IDS = {
    "decline": "change_request_{pk}_decline_%s",
    "comment": "change_request_{pk}_comment_%s",
}
FORM_CLASSES = {"decline": ChangeRequestDeclineForm, "comment": ChangeRequestCommentForm}
ACTIONS = ("accept", "decline", "withdraw", "comment")
Status = ChangeRequest.Status
Subject = ChangeRequest.Subject


def agreement_form(kind: str, change_request_id: int, data=None):
    """The decline or comment form of one request, with its own ids."""
    return FORM_CLASSES[kind](data, auto_id=FORM_IDS[kind].format(pk=change_request_id))


def agreement_section(
    request, engagement: Engagement, viewer: Access, *, forms: dict | None = None
) -> dict:
    """The open requests (each with `may`, its forms and its back-test) and a page of
    the decided ones, most recently decided first (?decided=<page>)."""
    forms = forms or {}
    open_requests = list(change_requests_of(engagement, open=True))
    slas = SLA.objects.in_bulk([r.sla_id for r in open_requests if r.sla_id])
    for change_request in open_requests:
        add_backtest(engagement, change_request, slas.get(change_request.sla_id))
        change_request.may = {
            action: change_request.refusal(request.user, action, viewer) is None
            for action in ACTIONS
        }
        for kind in FORM_CLASSES:
            form = forms.get((change_request.pk, kind)) or agreement_form(kind, change_request.pk)
            setattr(change_request, f"{kind}_form", form)
    decided = change_requests_of(engagement, open=False).order_by(
        Coalesce("decided_at", "expires_at").desc(), F("pk").desc()
    )
    page = Paginator(decided, DECIDED_SHOWN).get_page(request.GET.get("decided"))
    for change_request in page:
        describe_decision(engagement, change_request)
    return {"open": open_requests, "decided": page}


def add_backtest(engagement: Engagement, change_request: ChangeRequest, sla: SLA | None) -> None:
    """What the request would have meant in the past, so both sides see what they agree to:
    a scoring change's rescored periods (`backtest`), an SLA target or direction change's
    attainment over the last closed periods (`sla_backtest`); None for other requests."""
    proposed = change_request.proposed
    change_request.backtest = change_request.sla_backtest = None
    if change_request.subject == Subject.SCORING_CONFIG and (
        {"weights", "band_limits"} & set(proposed)
    ):
        config = whatif_config(
            engagement=engagement,
            weights=proposed.get("weights", {}),
            band_limits=proposed.get("band_limits", {}),
        )
        change_request.backtest = scoring_backtest(engagement=engagement, config=config)
    elif sla is not None and {"target", "direction"} & set(proposed):
        sla.engagement = engagement
        change_request.sla_backtest = sla_target_backtest(
            sla=sla,
            target=Decimal(proposed.get("target", sla.target)),
            direction=proposed.get("direction"),
        )


def describe_decision(engagement: Engagement, change_request: ChangeRequest) -> None:
    """What the audit trail shows of a decided request: its outcome (an open one past its
    expiry is expired, whether or not the expiry task ran), when, by which side, the rows
    old → new and the period it applies from."""
    expired = change_request.status in (Status.OPEN, Status.EXPIRED)
    change_request.outcome = (
        Status.EXPIRED.label if expired else change_request.get_status_display()
    )
    change_request.decided_on = change_request.decided_at or change_request.expires_at
    change_request.decided_side = (
        change_request.requested_side
        if change_request.status == Status.WITHDRAWN
        else other_side(change_request.requested_side)
    )
    change_request.rows = (
        change_request.replaced_changes()
        if change_request.status == Status.ACCEPTED
        else change_request.changes()
    )
    change_request.applies_from_period = change_request.applies_from and period_containing(
        engagement.scorecard_period, change_request.applies_from
    )
