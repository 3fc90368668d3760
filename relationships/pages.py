"""The base of every dashboard page about one engagement, and the helpers all pages share.

Views only look up what the user may see (404 otherwise), hand the typed data to
a service, and show its ValidationError next to the fields (PermissionDenied
becomes Django's 403).
"""

import re

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View

from core.inputs import MAX_ID, whole_number
from relationships.forms import add_service_errors
from relationships.models import Access, Engagement
from relationships.tenancy import engagement_with_access

PART_NAME = re.compile(r"[a-z][a-z_]{0,39}")
PAGE_TEMPLATE = "relationships/engagement_form.html"
PART_TEMPLATE = "relationships/_engagement_form.html"


def id_param(value: str) -> int | None:
    """A positive id from a query parameter; None for anything else (ignored, never a 500)."""
    number = whole_number(value)
    return number if number is not None and 0 < number <= MAX_ID else None


def query_without_page(request) -> str:
    """The current filters and sort, for the pagination links to carry."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def button_action(request, action, *, success: str, engagement, to: str | None = None):
    """A one-button POST: run the service, say how it went, go back to the engagement page
    (or to `to`, a part of it)."""
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect(to or engagement)


class EngagementFormView(LoginRequiredMixin, View):
    """A form page about one engagement: GET shows it blank, POST hands it to a service.

    Subclasses (or `as_view(...)` arguments) set `form_class`, `service`, `title` and
    `success_message`, or write `perform(form)` when the service takes other arguments.
    `action` is what the user's access must allow (see relationships.models.Access).
    Date-times are typed and shown in the engagement's time zone.
    """

    form_class = None
    action = "write"
    service = None  # called with engagement, user and the form's cleaned data
    service_error_fields = {}  # the service's error keys that name other form fields
    template_name = PAGE_TEMPLATE
    title = ""
    intro = ""  # a sentence above the form, when the form needs one
    success_message = ""
    submit_label = "Save"
    success_anchor = ""  # the part of the engagement page to go back to ("#contacts")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.engagement, self.access = self.engagement_and_access()
        with timezone.override(self.engagement.tz):
            return super().dispatch(request, *args, **kwargs)

    def engagement_and_access(self) -> tuple[Engagement, Access]:
        """The page's engagement and the user's access to it; 404 if they cannot see it."""
        return engagement_with_access(self.request.user, self.kwargs["pk"])

    def get_form(self, data=None, files=None):
        return self.form_class(
            data,
            files,
            engagement=self.engagement,
            initial=self.get_initial(),
            auto_id=f"{self.part}_%s" if self.part else "id_%s",
        )

    @cached_property
    def part(self) -> str | None:
        """The engagement page loads a record form when it is opened (static/js/engagement.js):
        GET ?form=<name> answers the <form> alone, its ids prefixed "<name>_", as that page
        has several forms with the same fields. None: the whole page."""
        if self.request.method != "GET" or self.template_name != PAGE_TEMPLATE:
            return None  # pages of their own make (a check-in plan, the survey): always whole
        name = self.request.GET.get("form", "")
        return name if PART_NAME.fullmatch(name) else None

    def get_initial(self) -> dict:
        """Values a blank form starts with (links may preselect some)."""
        return {}

    def get(self, request, *args, **kwargs):
        self.access.require(self.action)
        return self.render(self.get_form())

    def post(self, request, *args, **kwargs):
        self.access.require(self.action)
        form = self.get_form(request.POST, request.FILES)
        if form.is_valid():
            try:
                unchanged = self.perform(form)
            except ValidationError as exc:
                add_service_errors(form, exc, field_map=self.service_error_fields)
            else:
                if unchanged:
                    messages.info(request, unchanged)
                else:
                    messages.success(request, self.get_success_message())
                return redirect(self.get_success_url())
        return self.render(form, status=400)

    def get_success_message(self) -> str:
        return self.success_message

    def get_success_url(self) -> str:
        return self.engagement.get_absolute_url() + self.success_anchor

    def perform(self, form) -> str | None:
        """Do what the form asks; a message instead of `success_message` when nothing changed."""
        self.service(engagement=self.engagement, user=self.request.user, **form.cleaned_data)

    def get_context_data(self, **kwargs):
        return {
            "engagement": self.engagement,
            "title": self.title,
            "intro": self.intro,
            "submit_label": self.submit_label,
            "time_zone": self.engagement.time_zone,
            "part": self.part,
            **kwargs,
        }

    def render(self, form, status=200):
        template = PART_TEMPLATE if self.part else self.template_name
        return render(self.request, template, self.get_context_data(form=form), status=status)
