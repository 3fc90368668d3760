"""Dashboard forms for the feedback domain.

The author's side is never a field: the services derive it. Only the side an
issue is the responsibility of and the side that owns an action item are chosen.
"""

from datetime import datetime

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from core.forms import AccordForm
from feedback.models import (
    NPS_QUESTION,
    PULSE_QUESTIONS,
    SURVEY_TEXTS,
    TEXT_LIMIT,
    CheckIn,
    ContributionReview,
    Feedback,
    Issue,
)
from relationships.forms import (
    DateInput,
    EngagementForm,
    LocalDateTimeInput,
    engagement_people,
    person_with_side,
)
from relationships.models import SLA, KeyContact, SharedGoal, Side, Tier

LIKERT_CHOICES = [
    (1, "1 · Strongly disagree"),
    (2, "2 · Disagree"),
    (3, "3 · Neither"),
    (4, "4 · Agree"),
    (5, "5 · Strongly agree"),
]


_SEVERAL = "Hold Ctrl (Cmd on a Mac) to choose several."


def _with_management_form(data, prefix: str):
    """A post without the rows' management fields (a script, an old page) has no rows."""
    if data is None or f"{prefix}-TOTAL_FORMS" in data:
        return data
    data = data.copy()
    data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


class CheckInForm(EngagementForm):
    occurred_at = forms.DateTimeField(widget=LocalDateTimeInput, label="When")
    kind = forms.ChoiceField(choices=CheckIn.Kind.choices, initial=CheckIn.Kind.SYNC)
    tier = forms.ChoiceField(
        choices=[("", "None")] + Tier.choices,
        required=False,
        label="Governance tier",
        help_text="If this was one tier's meeting: the governance map shows its last one.",
    )
    attendee_users = forms.ModelMultipleChoiceField(
        queryset=None, required=False, label="Attendees (Accord users)", help_text=_SEVERAL
    )
    attendee_contacts = forms.ModelMultipleChoiceField(
        queryset=None, required=False, label="Attendees (key contacts)", help_text=_SEVERAL
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.follow_ups = FollowUpFormSet(
            _with_management_form(data, "action_items"),
            prefix="action_items",
            auto_id=self.auto_id,
            form_kwargs={"engagement": self.engagement},
        )
        # Now, to the minute, in the engagement's time zone, as the date-time picker shows it.
        self.fields["occurred_at"].initial = timezone.localtime(
            timezone.now(), self.engagement.tz
        ).replace(tzinfo=None, second=0, microsecond=0)
        self.fields["attendee_users"].queryset = engagement_people(self.engagement)
        self.fields["attendee_users"].label_from_instance = person_with_side
        self.fields["attendee_contacts"].queryset = KeyContact.objects.filter(
            engagement=self.engagement
        )

    def is_valid(self):
        follow_ups_valid = self.follow_ups.is_valid()  # always, so every row shows its errors
        return super().is_valid() and follow_ups_valid

    @property
    def nested_rows(self) -> dict:
        """The filled follow-up rows, in the order the service numbers `action_items[i]`."""
        return {"action_items": [row for row in self.follow_ups if row.has_changed()]}

    def clean(self):
        cleaned = super().clean()
        if self.follow_ups.is_valid():
            cleaned["action_items"] = [row.cleaned_data for row in self.nested_rows["action_items"]]
        return cleaned


class CheckInPlanForm(EngagementForm):
    """Invite key contacts to one of the proposed slots (feedback.selectors.checkin_plan)."""

    starts_at = forms.TypedChoiceField(
        label="When",
        widget=forms.RadioSelect,
        coerce=datetime.fromisoformat,
        error_messages={"invalid_choice": "Choose one of the proposed times."},
    )
    attendee_contacts = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label="Invite",
        help_text="Each gets an e-mail with a calendar invitation (.ics).",
    )

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].choices = [
            (slot.isoformat(), plan.slot_label(slot)) for slot in plan.slots
        ]
        attendees = self.fields["attendee_contacts"]
        attendees.queryset = KeyContact.objects.filter(pk__in=[c.pk for c in plan.contacts])
        attendees.label_from_instance = lambda contact: (
            f"{contact.name}, {contact.get_role_display()} ({contact.side}), {contact.time_zone} "
            f"{contact.work_starts:%H:%M}–{contact.work_ends:%H:%M}"
        )


class FeedbackForm(EngagementForm):
    kind = forms.ChoiceField(choices=Feedback.Kind.choices, widget=forms.Select)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
    suggested_action = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10000,
        required=False,
        help_text="Required for improvement feedback: what concretely should change?",
    )
    sla = forms.ModelChoiceField(queryset=None, required=False, label="About an SLA")
    goal = forms.ModelChoiceField(queryset=None, required=False, label="About a shared goal")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sla"].queryset = SLA.objects.filter(engagement=self.engagement)
        self.fields["goal"].queryset = SharedGoal.objects.filter(engagement=self.engagement)


class IssueForm(EngagementForm):
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=20000, required=False
    )
    severity = forms.ChoiceField(choices=Issue.Severity.choices, initial=Issue.Severity.MEDIUM)
    responsible_side = forms.ChoiceField(
        choices=Side.choices, help_text="Whose part of the work the problem is in."
    )
    detected_at = forms.DateTimeField(
        widget=LocalDateTimeInput, label="Detected at", help_text="When the problem was noticed."
    )
    raised_at = forms.DateTimeField(
        widget=LocalDateTimeInput,
        required=False,
        label="Raised at",
        help_text="When it was shared with the other side; leave empty for now.",
    )


class ActionItemFields(EngagementForm):
    """Who does what by when: the fields an action item always has."""

    owner_side = forms.ChoiceField(choices=Side.choices, label="Owner side")
    owner = forms.ModelChoiceField(queryset=None, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    due_date = forms.DateField(widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = engagement_people(self.engagement)
        self.fields["owner"].label_from_instance = person_with_side

    def clean(self):
        cleaned = super().clean()
        owner, side = cleaned.get("owner"), cleaned.get("owner_side")
        if owner and side:
            organization_id = self.engagement.organization_id_of(side)
            if not owner.memberships.filter(organization_id=organization_id).exists():
                self.add_error("owner", f"Choose a person of the {side} side.")
        return cleaned


class ActionItemForm(ActionItemFields):
    checkin = forms.ModelChoiceField(
        queryset=None, required=False, label="Follow-up of check-in", empty_label="None"
    )
    review = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Commitment in the contribution review of",
        empty_label="None",
        help_text="In a review each side commits only to its own actions.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checkin"].queryset = CheckIn.objects.filter(engagement=self.engagement)
        self.fields["review"].queryset = ContributionReview.objects.filter(
            issue__engagement=self.engagement
        ).select_related("issue")
        self.fields["review"].label_from_instance = lambda review: review.issue.title


class FollowUpForm(ActionItemFields):
    """One follow-up row of a check-in; a row left blank is skipped."""

    # A blank first choice, so that an untouched row is unchanged and ignored.
    owner_side = forms.ChoiceField(
        choices=[("", "Choose a side"), *Side.choices], label="Owner side"
    )
    description = forms.CharField(max_length=5000)


FOLLOW_UP_ROWS = 3
FollowUpFormSet = forms.formset_factory(
    FollowUpForm, extra=FOLLOW_UP_ROWS, max_num=FOLLOW_UP_ROWS, validate_max=True
)


class PulseSurveyForm(AccordForm):
    """The survey of PRODUCT.md §8: per statement a required rating and an optional mirror
    (each a 1–5 radio group), the optional recommendation (0–10) and three optional texts."""

    def __init__(self, *args, counterpart: str, **kwargs):
        super().__init__(*args, **kwargs)
        for field, question in PULSE_QUESTIONS:
            self.fields[field] = forms.TypedChoiceField(
                label=question, choices=LIKERT_CHOICES, coerce=int, widget=forms.RadioSelect
            )
            self.fields[f"mirror_{field}"] = forms.TypedChoiceField(
                label="How do you think they will rate you on this? (optional)",
                choices=LIKERT_CHOICES,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
        self.fields["nps"] = forms.TypedChoiceField(
            label=NPS_QUESTION.format(counterpart=counterpart),
            choices=[(score, str(score)) for score in range(11)],
            coerce=int,
            empty_value=None,
            required=False,
            widget=forms.RadioSelect,
            help_text="0: not at all likely, 10: extremely likely. Optional.",
        )
        for field, question in SURVEY_TEXTS:
            self.fields[field] = forms.CharField(
                label=question,
                required=False,
                max_length=TEXT_LIMIT,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=f"Optional; up to {TEXT_LIMIT:,} characters. Shown without your name.",
            )

    def statements(self):
        """(number, rating, mirror) per statement, for the page's fieldsets."""
        return [
            (number, self[field], self[f"mirror_{field}"])
            for number, (field, _question) in enumerate(PULSE_QUESTIONS, start=1)
        ]

    def texts(self):
        return [self[field] for field, _question in SURVEY_TEXTS]


def engagement_forms(engagement, access) -> dict:
    """Context of feedback/_engagement_forms.html, the engagement page's write controls.

    `write_forms` (title, action, and `part`, the address of the blank form alone, which the
    page loads when the section is opened) and `open_goals` are given to managers and admins
    of an active engagement only, so viewers see no write controls.
    """
    context = {"write_forms": []}
    if not access.can_write:
        return context
    sections = [
        ("checkin", "Log a check-in", "checkin-create"),
        ("feedback", "Give feedback", "feedback-create"),
        ("issue", "Raise an issue", "issue-create"),
        ("action_item", "Add an action item", "action-item-create"),
        ("measurement", "Record a measurement", "measurement-create"),
        ("upload", "Upload measurements (CSV)", "measurement-upload"),
    ]
    context["write_forms"] = []
    for name, title, url_name in sections:
        action = reverse(url_name, args=[engagement.pk])
        # Distinct id prefixes (the name): several forms share field names on one page.
        part = f"{action}?{urlencode({'form': name})}"
        context["write_forms"].append({"title": title, "action": action, "part": part})
    context["open_goals"] = engagement.goals.filter(cancelled=False, achieved_on__isnull=True)
    return context
