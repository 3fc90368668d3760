"""Dashboard write pages of the feedback domain."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from feedback import services
from feedback.forms import ActionItemForm, CheckInForm, FeedbackForm, IssueForm
from feedback.models import ActionItem, Issue
from relationships.models import Engagement
from relationships.pages import EngagementFormView, button_action, id_param

# The pages that hand a form's data straight to a service: (form, service, title, success).
checkin_create, feedback_create, issue_create = (
    EngagementFormView.as_view(
        form_class=form_class, service=service, title=title, success_message=success
    )
    for form_class, service, title, success in [
        (CheckInForm, services.checkin_log, "Log a check-in", "Check-in logged."),
        (FeedbackForm, services.feedback_give, "Give feedback", "Feedback shared."),
        (IssueForm, services.issue_raise, "Raise an issue", "Issue raised."),
    ]
)


class ActionItemCreateView(EngagementFormView):
    form_class = ActionItemForm
    service = staticmethod(services.action_item_add)
    title = "Add an action item"
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
