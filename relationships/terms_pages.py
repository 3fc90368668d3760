"""Dashboard pages that change the terms of an engagement (PRODUCT.md §7).

Every one hands its values to relationships.change_requests.terms_change, which applies
them while the proposing side sets the terms of a proposed engagement and opens a change
request to the other side once it is active; the page says which before and after.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.html import format_html

from relationships import change_requests
from relationships.change_requests import require_terms_access
from relationships.forms import EngagementTermsForm, GoalTermsForm, SLATermsForm
from relationships.models import (
    SLA,
    Access,
    ChangeRequest,
    Engagement,
    SharedGoal,
    Side,
    other_side,
)
from relationships.pages import EngagementFormView

Subject = ChangeRequest.Subject


def may_change_terms(
    engagement: Engagement, user, subject: str, *, access: Access | None = None
) -> bool:
    """Whether the user may propose (or, on a proposal of their side, make) this change;
    access: the user's, if the caller has read it already."""
    try:
        require_terms_access(engagement, user, subject, access=access)
    except PermissionDenied:
        return False
    return True


def deciders(subject: str) -> str:
    """Who of the other side accepts a change of this subject."""
    return "admins" if subject == Subject.SCORING_CONFIG else "managers"


class TermsFormView(EngagementFormView):
    """A form page about a term: `subject`, and the SLA or goal it changes if any."""

    subject = None
    action = "read"  # who may change terms is terms_change's rule, checked before the form
    submit_label = "Propose this change"
    applied_message = "Saved: it is part of your proposal, which {counterpart} accepts or not."

    def get(self, request, *args, **kwargs):
        self.require_terms_access()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.require_terms_access()
        return super().post(request, *args, **kwargs)

    def require_terms_access(self) -> None:
        require_terms_access(self.engagement, self.request.user, self.subject)

    @property
    def counterpart(self):
        return self.engagement.organization_of(other_side(self.access.side))

    @property
    def proposing(self) -> bool:
        return self.engagement.status == Engagement.Status.PROPOSED

    @cached_property
    def terms_target(self) -> dict:
        """The SLA or goal changed (none for a new one or another subject)."""
        return {}

    def get_form(self, data=None, files=None):
        return self.form_class(
            data, engagement=self.engagement, initial=self.get_initial(), **self.terms_target
        )

    def get_context_data(self, **kwargs):
        if self.proposing:
            intro = (
                f"While {self.counterpart} has not accepted the proposal, your changes apply "
                "directly: accepting the engagement accepts them."
            )
        else:
            intro = (
                f"Your change will be sent to {self.counterpart} for agreement; it applies "
                f"when one of their {deciders(self.subject)} accepts it, from the period in "
                "progress then. Until then nothing changes."
            )
        target = self.terms_target
        return super().get_context_data(
            intro=intro,
            submit_label="Save" if self.proposing else self.submit_label,
            subject=next(iter(target.values()), None),
            **kwargs,
        )

    def perform(self, form):
        self.result = change_requests.terms_change(
            engagement=self.engagement,
            user=self.request.user,
            subject=self.subject,
            values=form.terms_values(),
            **self.terms_target,
        )

    def get_success_message(self) -> str:
        change_request = self.result.change_request
        if change_request is None:
            return self.applied_message.format(counterpart=self.counterpart)
        return format_html(
            'Change request sent to {} for agreement: <a href="{}">{}</a>. It applies when one '
            "of their {} accepts it.",
            self.counterpart,
            change_request.get_absolute_url(),
            change_request.subject_label,
            deciders(self.subject),
        )

    def get_success_url(self) -> str:
        change_request = self.result.change_request
        return change_request.get_absolute_url() if change_request else super().get_success_url()


class SLAProposeView(TermsFormView):
    form_class = SLATermsForm
    subject = Subject.SLA
    title = "Propose an SLA"
    success_anchor = "#terms"

    def get_initial(self):
        # "Propose a provider SLA" beside a side's SLAs preselects the side.
        side = self.request.GET.get("owner_side")
        return {"owner_side": side} if side in Side.values else {}


class SLAChangeView(SLAProposeView):
    title = "Change this SLA"

    @cached_property
    def terms_target(self) -> dict:
        return {"sla": get_object_or_404(SLA, engagement=self.engagement, pk=self.kwargs["sla_pk"])}


class GoalProposeView(TermsFormView):
    form_class = GoalTermsForm
    subject = Subject.GOAL
    title = "Propose a shared goal"
    success_anchor = "#goals"


class GoalChangeView(GoalProposeView):
    title = "Change this goal"

    @cached_property
    def terms_target(self) -> dict:
        return {
            "goal": get_object_or_404(
                SharedGoal, engagement=self.engagement, pk=self.kwargs["goal_pk"]
            )
        }


class EngagementTermsView(TermsFormView):
    form_class = EngagementTermsForm
    subject = Subject.ENGAGEMENT
    title = "Cadences and period kind"
    success_anchor = "#terms"
