"""The profile page's forms: the member's time zone and how they hear of each kind."""

from zoneinfo import available_timezones

from django import forms

from core.forms import AccordForm
from notices.models import AT_ONCE_FOR_WRITERS, Channel, Kind
from relationships.models import Engagement

TIME_ZONES = sorted(available_timezones() | {"UTC"})
AS_FOR_ALL = ""


def default_label(kind: str) -> str:
    if kind in AT_ONCE_FOR_WRITERS:
        return "Default: e-mail at once (managers, admins), weekly digest (viewers)"
    return "Default: weekly digest"


class ProfileForm(AccordForm):
    """The time zone, and a channel per kind for all engagements ("" is the role's default)."""

    time_zone = forms.ChoiceField(
        choices=[(zone, zone) for zone in TIME_ZONES],
        help_text="Digests arrive at 08:00 here; the weekly one on Mondays.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Kind.choices:
            self.fields[f"kind_{kind}"] = forms.ChoiceField(
                label=label,
                required=False,
                choices=[(AS_FOR_ALL, default_label(kind)), *Channel.choices],
            )


class EngagementPreferenceForm(AccordForm):
    """One engagement's own channel for one kind ("" goes back to the choice for all)."""

    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none())
    kind = forms.ChoiceField(choices=Kind.choices)
    channel = forms.ChoiceField(
        choices=[(AS_FOR_ALL, "As for all engagements"), *Channel.choices], required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = Engagement.objects.visible_to(user).only("pk", "name")
