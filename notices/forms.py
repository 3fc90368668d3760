"""The profile page's forms: the member's time zone and how they hear of each kind."""

from zoneinfo import available_timezones

from django import forms

from core.forms import AccordForm
from notices.models import Channel, Kind, default_channel
from relationships.models import Engagement

TIME_ZONES = sorted(available_timezones() | {"UTC"})
AS_FOR_ALL = ""


def default_label(kind: str, roles: set[str]) -> str:
    """The default's channel for the member's roles (their organisations' roles differ
    only in a few cases, said then)."""
    channels = {default_channel(kind, role) for role in roles} or {Channel.WEEKLY}
    if len(channels) == 1:
        return f"Default: {Channel(channels.pop()).label.lower()}"
    return "Default: e-mail at once as a manager, weekly digest as a viewer"


class ProfileForm(AccordForm):
    """The time zone, and a channel per kind for all engagements ("" is the role's default)."""

    time_zone = forms.ChoiceField(
        choices=[(zone, zone) for zone in TIME_ZONES],
        help_text="Digests arrive at 08:00 here; the weekly one on Mondays.",
    )

    def __init__(self, *args, roles: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Kind.choices:
            self.fields[f"kind_{kind}"] = forms.ChoiceField(
                label=label,
                required=False,
                choices=[(AS_FOR_ALL, default_label(kind, roles)), *Channel.choices],
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
