"""Dashboard pages of the feedback domain: forms to record, and the pulse survey."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST

from feedback import selectors, services
from feedback.forms import (
    ActionItemForm,
    CheckInForm,
    CheckInPlanForm,
    FeedbackForm,
    IssueForm,
    PulseSurveyForm,
)
from feedback.invitations import contact_address
from feedback.models import (
    PULSE_QUESTIONS,
    SURVEY_ANSWER_FIELDS,
    ActionItem,
    CheckInInvitation,
    Issue,
    PulseResponse,
)
from relationships.models import Engagement, Side, other_side
from relationships.pages import EngagementFormView, button_action, id_param

# The pages that hand a form's data straight to a service: (form, service, title, button,
# success).
feedback_create, issue_create = (
    EngagementFormView.as_view(
        form_class=form_class,
        service=service,
        title=title,
        submit_label=button,
        success_message=success,
    )
    for form_class, service, title, button, success in [
        (
            FeedbackForm,
            services.feedback_give,
            "Give feedback",
            "Share feedback",
            "Feedback shared.",
        ),
        (IssueForm, services.issue_raise, "Raise an issue", "Raise issue", "Issue raised."),
    ]
)


class CheckInCreateView(EngagementFormView):
    form_class = CheckInForm
    service = staticmethod(services.checkin_log)
    title = "Log a check-in"
    submit_label = "Log check-in"
    success_message = "Check-in logged."

    def get_initial(self):
        # An invitation's link (feedback.invitations.log_link) fills in its time and attendees.
        invitation = (
            CheckInInvitation.objects.filter(
                engagement=self.engagement, pk=id_param(self.request.GET.get("invitation", ""))
            )
            .prefetch_related("attendee_contacts")
            .first()
        )
        if invitation is None:
            return {}
        starts = timezone.localtime(invitation.starts_at, self.engagement.tz)
        return {
            "occurred_at": starts.replace(tzinfo=None),
            "attendee_contacts": list(invitation.attendee_contacts.all()),
        }


class CheckInPlanView(EngagementFormView):
    """The proposed slots of the next check-in; choosing one sends the invitations."""

    form_class = CheckInPlanForm
    template_name = "feedback/checkin_plan.html"
    title = "Plan the next check-in"
    submit_label = "Send invitation"
    success_anchor = "#checkins"

    @cached_property
    def plan(self):
        return selectors.checkin_plan(self.engagement, timezone.now())

    def get_form(self, data=None, files=None):
        return self.form_class(
            data, engagement=self.engagement, initial=self.get_initial(), plan=self.plan
        )

    def get_initial(self):
        return {
            "starts_at": self.request.GET.get("slot"),
            "attendee_contacts": [c for c in self.plan.contacts if contact_address(c)],
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(plan=self.plan, **kwargs)

    def perform(self, form):
        self.invited = services.checkin_invite(
            engagement=self.engagement, user=self.request.user, **form.cleaned_data
        )

    def get_success_message(self):
        count = self.invited.attendee_contacts.count()
        return f"Invitation on its way to {count} attendee{'s' if count != 1 else ''}."


class ActionItemCreateView(EngagementFormView):
    form_class = ActionItemForm
    service = staticmethod(services.action_item_add)
    title = "Add an action item"
    submit_label = "Add"
    success_message = "Action item added."

    def get_initial(self):
        # "Add your side's action" links of a contribution review preselect it and the side.
        return {
            "review": id_param(self.request.GET.get("review", "")),
            "owner_side": self.access.side,
        }


def _one_button(model, service, *, argument: str, success: str):
    """A POST-only view running `service` on one record of the user's engagements."""

    @login_required
    @require_POST
    def view(request, pk):
        visible = Engagement.objects.visible_to(request.user)
        record = get_object_or_404(
            model.objects.select_related("engagement").filter(engagement__in=visible), pk=pk
        )
        return button_action(
            request,
            lambda: service(**{argument: record}, user=request.user),
            success=success,
            engagement=record.engagement,
        )

    return view


action_item_complete = _one_button(
    ActionItem, services.action_item_complete, argument="item", success="Action item completed."
)
action_item_cancel = _one_button(
    ActionItem, services.action_item_cancel, argument="item", success="Action item cancelled."
)
issue_resolve = _one_button(
    Issue, services.issue_resolve, argument="issue", success="Issue resolved."
)
issue_review_open = _one_button(
    Issue,
    services.review_create,
    argument="issue",
    success="Contribution review opened: each side now adds what it will do.",
)


class PulseSurveyView(EngagementFormView):
    """Any member answers for the current period; their own answers come back prefilled."""

    form_class = PulseSurveyForm
    template_name = "feedback/pulse_survey.html"
    title = "Pulse survey"
    action = "read"
    success_message = "Thank you: your answers are saved for this period."
    submit_label = "Submit answers"

    @cached_property
    def period(self):
        return self.engagement.current_period()

    def get_form(self, data=None, files=None):
        previous = (
            PulseResponse.objects.current()
            .filter(
                engagement=self.engagement,
                respondent=self.request.user,
                period_start=self.period.start,
            )
            .first()
        )
        self.previous = previous
        initial = (
            {field: getattr(previous, field) for field in SURVEY_ANSWER_FIELDS} if previous else {}
        )
        counterpart = self.engagement.organization_of(other_side(self.access.side))
        return self.form_class(data, initial=initial, counterpart=counterpart.name)

    def perform(self, form):
        services.pulse_submit(
            engagement=self.engagement, user=self.request.user, answers=form.cleaned_data
        )

    def get_context_data(self, **kwargs):
        published_period = self.engagement.latest_closed_period()
        publication = selectors.survey_publication(self.engagement, published_period)
        return super().get_context_data(
            period=self.period,
            closed_from=self.engagement.period_closed_from(self.period),
            side=self.access.side,
            previous=self.previous,
            threshold=self.engagement.survey_threshold_for(self.period),
            published_period=published_period,
            report_url=reverse(
                "engagement-period", args=[self.engagement.pk, published_period.start.isoformat()]
            ),
            published_threshold=publication.threshold,
            sides=[
                _side_summary(label, publication.sides.get(side)) for side, label in Side.choices
            ],
            **kwargs,
        )


def _side_summary(label: str, published) -> dict:
    return {
        "label": label,
        "published": published,
        "question_means": [
            {"question": question, "value": published.means[field]}
            for field, question in PULSE_QUESTIONS
        ]
        if published
        else [],
    }
