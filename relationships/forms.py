"""Dashboard forms for the relationships domain.

Forms only parse and check the shape of input; the services decide the rules
and derive the side. Choices that reference objects offer only the
engagement's own objects, so a foreign id is "not one of the available choices".
"""

import re
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q

from core.forms import AccordForm
from relationships.disputes import REASON_MAX
from relationships.models import (
    CHANGE_REQUEST_COMMENT_MAX,
    DECLINE_REASON_MAX,
    KEY_CONTACT_WORK_ENDS,
    KEY_CONTACT_WORK_STARTS,
    SLA,
    Engagement,
    KeyContact,
    Membership,
    Organization,
    Role,
    Side,
    Tier,
    validate_time_zone,
)
from relationships.people import person_name
from relationships.services import UNKNOWN_COUNTERPART
from relationships.terms import GOAL_TERMS, SLA_TERMS, decimal_text


class LocalDateTimeInput(forms.DateTimeInput):
    """A browser date-time picker; its value is in the engagement's time zone (see views)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


# A service's key for a field of one of several nested rows: "action_items[0].due_date".
NESTED_KEY = re.compile(r"(?P<name>\w+)\[(?P<index>\d+)\]\.(?P<field>\w+)")


def add_service_errors(form, error: ValidationError, *, field_map=None, default_field=None):
    """Show a service's ValidationError next to the form's fields.

    Keys the form does not have (a model field the user never typed, "__all__")
    become errors of the whole form; `field_map` renames service keys to form fields.
    Keys of nested rows go to the row form the form lists in `nested_rows`.
    """
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        form.add_error(default_field, error)
        return
    nested = getattr(form, "nested_rows", {})
    for key, messages in error.message_dict.items():
        match = NESTED_KEY.fullmatch(key)
        rows = nested.get(match["name"], []) if match else []
        if match and int(match["index"]) < len(rows):
            target, field = rows[int(match["index"])], match["field"]
        else:
            target, field = form, field_map.get(key, key)
        target.add_error(field if field in target.fields else None, messages)


class EngagementDeclineForm(AccordForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=DECLINE_REASON_MAX,
        label="Why do you decline?",
        help_text="Both sides read it with your decision.",
    )


class EngagementForm(AccordForm):
    """A form about one engagement: its object choices are limited to that engagement."""

    def __init__(self, *args, engagement: Engagement, **kwargs):
        super().__init__(*args, **kwargs)
        self.engagement = engagement


def engagement_people(engagement: Engagement):
    """Users of either party, for attendee and owner choices: the client side's first, each
    with the sides they are on (`on_client`, `on_provider`) for `person_with_side`."""

    def member_of(organization_id):
        return Exists(
            Membership.objects.filter(user_id=OuterRef("pk"), organization_id=organization_id)
        )

    return (
        get_user_model()
        .objects.annotate(
            on_client=member_of(engagement.client_id),
            on_provider=member_of(engagement.provider_id),
        )
        .filter(Q(on_client=True) | Q(on_provider=True))
        .order_by("-on_client", "first_name", "last_name", "username")
    )


def person_with_side(user) -> str:
    """A choice of `engagement_people`: the person and their side, as both sides share the
    lists ("Dana Smith, client side")."""
    sides = [side for side in Side.values if getattr(user, f"on_{side}", False)]
    return f"{person_name(user)}, {' and '.join(sides)} side{'s' if len(sides) > 1 else ''}"


class MeasurementForm(EngagementForm):
    sla = forms.ModelChoiceField(queryset=SLA.objects.none(), label="SLA")
    period_start = forms.DateField(widget=DateInput)
    period_end = forms.DateField(widget=DateInput)
    value = forms.DecimalField(max_digits=18, decimal_places=6)
    source = forms.CharField(
        max_length=100, required=False, help_text="Where the value comes from."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sla"].queryset = SLA.objects.filter(engagement=self.engagement)
        self.fields["sla"].label_from_instance = lambda sla: (
            f"{sla.name} ({sla.get_owner_side_display()}, {sla.unit})"
        )


class MeasurementDisputeForm(EngagementForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=REASON_MAX,
        help_text="Why the value is wrong; the other side sees it.",
    )
    corrected_value = forms.DecimalField(
        max_digits=18,
        decimal_places=6,
        required=False,
        help_text="Optional: the value you propose instead, which the other side may accept.",
    )


class MeasurementUploadForm(EngagementForm):
    # 10,000 rows with a long source each fit in well under this.
    MAX_BYTES = 4 * 1024 * 1024

    file = forms.FileField(
        label="CSV file",
        help_text="Columns: sla (name or id), period_start, period_end, value, source (optional). "
        "Dates as YYYY-MM-DD. All rows are saved, or none.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(f"The file is larger than {self.MAX_BYTES // 2**20} MB.")
        return upload


class GoalProgressForm(EngagementForm):
    date = forms.DateField(widget=DateInput)
    percent = forms.IntegerField(
        min_value=0, max_value=100, label="Progress (%)", help_text="0 to 100."
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = self.engagement.today()


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


class WorkingHoursForm(EngagementForm):
    """Where and when a key contact works: their zone and working day, which the check-in
    planner keeps to."""

    time_zone = forms.CharField(
        max_length=64,
        validators=[validate_time_zone],
        label="Time zone",
        help_text="Where the contact works, e.g. Asia/Kolkata.",
    )
    work_starts = forms.TimeField(
        widget=TimeInput, initial=KEY_CONTACT_WORK_STARTS, label="Working day starts"
    )
    work_ends = forms.TimeField(
        widget=TimeInput,
        initial=KEY_CONTACT_WORK_ENDS,
        label="Working day ends",
        help_text="Local time, after the start.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].initial = self.engagement.time_zone


class KeyContactChangeForm(WorkingHoursForm):
    """The new contact for a side and role; the current one's end date is set for them."""

    side = forms.ChoiceField(choices=Side.choices)
    role = forms.ChoiceField(choices=KeyContact.ContactRole.choices)
    tier = forms.ChoiceField(
        choices=[("", "The role's usual tier")] + Tier.choices,
        required=False,
        label="Governance tier",
        help_text="Executive sponsors sit in the executive tier, stewards and account "
        "managers in management, delivery and technical leads in operational.",
    )
    name = forms.CharField(max_length=200, label="New contact's name")
    email = forms.EmailField(required=False, label="New contact's email")
    start_date = forms.DateField(
        widget=DateInput,
        label="Contact from",
        help_text="The current contact for this role stays until the day before.",
    )
    field_order = ["side", "role", "name", "email", "start_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start_date"].initial = self.engagement.today()
        # Optional for a new contact: the engagement's zone and a nine-to-five day.
        for name in ("time_zone", "work_starts", "work_ends"):
            self.fields[name].required = False
        self.fields["time_zone"].help_text += " Empty: the engagement's."

    def clean_work_starts(self):
        return self.cleaned_data["work_starts"] or KEY_CONTACT_WORK_STARTS

    def clean_work_ends(self):
        return self.cleaned_data["work_ends"] or KEY_CONTACT_WORK_ENDS


class EngagementProposeForm(AccordForm):
    """The counterpart is chosen among the organisations the user's own work with, or is a
    new organisation invited by e-mail; never looked up by a typed name."""

    own_organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(), label="Your organisation"
    )
    own_side = forms.ChoiceField(choices=Side.choices, label="Your organisation is the")
    counterpart = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Counterpart organisation",
        empty_label="A new organisation: invite it below",
        help_text="Organisations yours already has an engagement with.",
        error_messages={"invalid_choice": UNKNOWN_COUNTERPART},
    )
    counterpart_name = forms.CharField(
        max_length=200,
        required=False,
        label="New organisation's name",
        help_text="Only for a counterpart not on Accord yet.",
    )
    counterpart_admin_email = forms.EmailField(
        required=False,
        label="Counterpart admin's e-mail",
        help_text="An admin of the counterpart. If they are on Accord, the proposal goes to "
        "their organisation; if not, give the new organisation's name too and we invite them.",
    )
    name = forms.CharField(max_length=200, label="Engagement name")
    phase = forms.ChoiceField(choices=Engagement.Phase.choices, initial=Engagement.Phase.PILOT)
    start_date = forms.DateField(widget=DateInput)
    end_date = forms.DateField(widget=DateInput, required=False)
    time_zone = forms.CharField(
        max_length=64,
        initial="UTC",
        validators=[validate_time_zone],
        help_text="e.g. Europe/Berlin",
    )
    scorecard_period = forms.ChoiceField(
        choices=Engagement.PeriodKind.choices, initial=Engagement.PeriodKind.MONTH
    )
    checkin_cadence_days = forms.IntegerField(
        min_value=1, max_value=365, initial=7, label="Check-in cadence (days)"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        organizations = Organization.objects.writable_by(user)
        self.fields["own_organization"].queryset = organizations
        self.fields["counterpart"].queryset = Organization.objects.counterparts_of(organizations)
        if len(organizations) == 1:
            self.fields["own_organization"].initial = organizations[0]


class InvitationForm(AccordForm):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class MembershipRoleForm(AccordForm):
    role = forms.ChoiceField(choices=Role.choices, label="Role")


class InvitationSignupForm(AccordForm):
    """A new user's account, created when they accept an invitation."""

    username = forms.CharField(max_length=150)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    password_again = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        label="Password again",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return cleaned


# ---------------------------------------------------------------- the terms (PRODUCT.md §7)
class SLATermsForm(EngagementForm):
    """A new SLA's terms, or an SLA's terms to change (prefilled with the ones in force):
    relationships.change_requests.terms_change decides what changes and how."""

    name = forms.CharField(max_length=200)
    owner_side = forms.ChoiceField(
        choices=Side.choices, label="Owned by", help_text="The side whose work it measures."
    )
    unit = forms.CharField(max_length=32, help_text="e.g. %, hours, tickets.")
    direction = forms.ChoiceField(choices=SLA.Direction.choices)
    target = forms.DecimalField(max_digits=18, decimal_places=6)
    weight = forms.DecimalField(
        max_digits=8,
        decimal_places=3,
        min_value=Decimal("0.001"),
        initial=1,
        help_text="Its share among the owning side's SLAs in the reliance score.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    active = forms.BooleanField(
        required=False,
        label="Active",
        help_text="Untick to deactivate it: it no longer counts once the change applies.",
    )

    def __init__(self, *args, sla: SLA | None = None, **kwargs):
        if sla is not None:
            # Decimals as typed ("99.5", not "99.500000").
            values = {name: getattr(sla, name) for name in SLA_TERMS}
            kwargs["initial"] = {
                name: decimal_text(value) if isinstance(value, Decimal) else value
                for name, value in values.items()
            }
        super().__init__(*args, **kwargs)
        # The description is not a term: it is given with a new SLA and edited directly.
        del self.fields["active" if sla is None else "description"]

    def terms_values(self) -> dict:
        return {
            name: str(value) if isinstance(value, Decimal) else value
            for name, value in self.cleaned_data.items()
        }


class GoalTermsForm(EngagementForm):
    """A new shared goal's terms, or a goal's terms to change (prefilled)."""

    title = forms.CharField(max_length=200)
    target = forms.CharField(max_length=200, required=False, help_text="What achieved looks like.")
    start_date = forms.DateField(widget=DateInput)
    due_date = forms.DateField(widget=DateInput)
    client_contact = forms.ModelChoiceField(
        queryset=KeyContact.objects.none(),
        required=False,
        label="Accountable on the client side",
        empty_label="Nobody named",
    )
    provider_contact = forms.ModelChoiceField(
        queryset=KeyContact.objects.none(),
        required=False,
        label="Accountable on the provider side",
        empty_label="Nobody named",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    cancelled = forms.BooleanField(
        required=False, help_text="Tick to cancel the goal: it no longer shows as due."
    )

    def __init__(self, *args, goal=None, **kwargs):
        if goal is not None:
            kwargs["initial"] = {name: getattr(goal, name) for name in GOAL_TERMS}
        super().__init__(*args, **kwargs)
        del self.fields["cancelled" if goal is None else "description"]
        for side in Side.values:
            field = self.fields[f"{side}_contact"]
            field.queryset = KeyContact.objects.filter(engagement=self.engagement, side=side)
            field.label_from_instance = lambda contact: (
                f"{contact.name}, {contact.get_role_display()}"
            )

    def clean(self):
        cleaned = super().clean()
        start, due = cleaned.get("start_date"), cleaned.get("due_date")
        if start and due and due < start:
            self.add_error("due_date", "The due date cannot be before the start date.")
        return cleaned

    def terms_values(self) -> dict:
        return dict(self.cleaned_data)


class EngagementTermsForm(EngagementForm):
    """The check-in cadence and the period kind, prefilled with the ones in force."""

    checkin_cadence_days = forms.IntegerField(
        min_value=1, max_value=365, label="Check-in cadence (days)"
    )
    scorecard_period = forms.ChoiceField(choices=Engagement.PeriodKind.choices, label="Period kind")
    executive_cadence_days, management_cadence_days, operational_cadence_days = (
        forms.IntegerField(
            min_value=1,
            max_value=365,
            required=False,
            label=f"{label} meetings (days)",
            help_text="Empty: no cadence agreed for this tier.",
        )
        for label in Tier.labels
    )

    def __init__(self, *args, engagement: Engagement, **kwargs):
        kwargs["initial"] = {name: getattr(engagement, name) for name in self.base_fields}
        super().__init__(*args, engagement=engagement, **kwargs)

    def terms_values(self) -> dict:
        return dict(self.cleaned_data)


class ChangeRequestDeclineForm(AccordForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=DECLINE_REASON_MAX,
        label="Why do you decline?",
        help_text="Both sides read it with your decision.",
    )


class ChangeRequestCommentForm(AccordForm):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=CHANGE_REQUEST_COMMENT_MAX,
        label="Comment",
    )
