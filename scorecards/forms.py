"""Dashboard forms of the scorecards app: the scoring configuration, a scorecard review and
an engagement's Slack and Teams channels."""

from django import forms

from core.forms import AccordForm
from relationships.models import Engagement
from relationships.scoring_config import BAND_LIMITS, DIMENSIONS
from scorecards.models import ScorecardReview, WebhookSubscription
from scorecards.webhooks.subscriptions import CHANNEL_FORMATS


def weight_field(name: str) -> str:
    return f"weight_{name}"


class ScoringConfigForm(AccordForm):
    """Weights per dimension, band limits and the survey threshold, prefilled with today's."""

    healthy_at = forms.FloatField(
        min_value=0, max_value=100, label="Healthy from overall", help_text="0 to 100."
    )
    watch_at = forms.FloatField(
        min_value=0,
        max_value=100,
        label="Watch from overall",
        help_text="0 to 100, not above the healthy limit; below it the band is at risk.",
    )
    min_coverage = forms.FloatField(
        min_value=0,
        max_value=1,
        label="Minimum coverage",
        help_text="0 to 1: the share of the weights with data below which the band is "
        "insufficient data.",
    )
    survey_threshold = forms.IntegerField(
        min_value=1,
        max_value=1000,
        label="Survey threshold",
        help_text="How many people of a side must answer before their view counts and is "
        "shown; applies from the next period that begins.",
    )
    grace_days = forms.IntegerField(
        min_value=0,
        max_value=14,
        label="Grace days",
        help_text="Days after a period ends during which late records still count for it.",
    )

    def __init__(self, *args, engagement: Engagement, **kwargs):
        values = engagement.scoring_config_values()
        initial = {
            "healthy_at": values.healthy_at,
            "watch_at": values.watch_at,
            "min_coverage": values.min_coverage,
            "survey_threshold": values.survey_threshold,
            "grace_days": values.grace_days,
            **{weight_field(name): values.weights[name] for name in DIMENSIONS},
        }
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for name in DIMENSIONS:
            self.fields[weight_field(name)] = forms.FloatField(
                min_value=0, max_value=1000, label=f"{name.capitalize()} weight"
            )
        self.order_fields([weight_field(name) for name in DIMENSIONS])

    def clean(self):
        cleaned = super().clean()
        healthy, watch = cleaned.get("healthy_at"), cleaned.get("watch_at")
        if healthy is not None and watch is not None and watch > healthy:
            self.add_error("watch_at", "The watch limit cannot be above the healthy limit.")
        return cleaned

    def terms_values(self) -> dict:
        data = self.cleaned_data
        return {
            **self.scoring_arguments(),
            "survey_threshold": data["survey_threshold"],
            "grace_days": data["grace_days"],
        }

    def scoring_arguments(self) -> dict:
        """The weights and band limits: what scores and bands are computed with."""
        data = self.cleaned_data
        return {
            "weights": {name: data[weight_field(name)] for name in DIMENSIONS},
            "band_limits": {key: data[key] for key in BAND_LIMITS},
        }


class WhatIfForm(ScoringConfigForm):
    """The weights and band limits to try on past periods (a GET form: nothing is saved)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("survey_threshold", "grace_days"):
            del self.fields[name]


# Own id prefix: the engagement page holds several forms with a "comment"-like field.
REVIEW_FORM_IDS = "review_%s"


class ReviewForm(AccordForm):
    decision = forms.ChoiceField(
        choices=ScorecardReview.Decision.choices,
        widget=forms.RadioSelect,
        label="Your decision",
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        required=False,
        help_text="Required when you dispute: say what you think is wrong.",
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decision") == ScorecardReview.Decision.DISPUTED
            and not cleaned.get("comment", "").strip()
        ):
            self.add_error("comment", "Give a reason when you dispute a scorecard.")
        return cleaned


class ChannelForm(AccordForm):
    """A Slack or Teams incoming webhook for an engagement's events; the address rules are
    scorecards.webhooks.addresses', applied when it is saved."""

    format = forms.ChoiceField(
        choices=[(value.value, value.label) for value in CHANNEL_FORMATS],
        initial=WebhookSubscription.Format.SLACK,
        widget=forms.RadioSelect,
        label="Channel",
    )
    url = forms.CharField(
        max_length=500,
        label="Incoming webhook URL",
        help_text="From Slack (an incoming webhook) or Teams (a Workflows webhook); https:// only.",
    )
    events = forms.MultipleChoiceField(
        choices=WebhookSubscription.subscribable_events,
        initial=[
            WebhookSubscription.Event.ALERT_RAISED,
            WebhookSubscription.Event.SCORECARD_COMPUTED,
        ],
        widget=forms.CheckboxSelectMultiple,
        label="Events to post",
    )
