from django import forms
from django.core.exceptions import ValidationError

from core.forms import AccordForm
from overview.selectors import COMPARE_LIMIT
from relationships.models import Engagement

QUERY_LIMIT = 200


class CompareForm(AccordForm):
    """Up to COMPARE_LIMIT of the user's engagements (a GET form: nothing is written; the
    page without a query shows the picker alone)."""

    engagement = forms.ModelMultipleChoiceField(
        queryset=Engagement.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Engagements to compare",
        error_messages={"required": "Pick at least one engagement to compare."},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = Engagement.objects.visible_to(user).order_by(
            "name", "pk"
        )

    def clean_engagement(self):
        chosen = self.cleaned_data["engagement"]
        if len(chosen) > COMPARE_LIMIT:
            raise ValidationError(
                f"Pick up to {COMPARE_LIMIT} engagements; you picked {len(chosen)}."
            )
        return chosen


class SearchForm(AccordForm):
    """The header's search box (a GET form; the page without a query shows the box alone)."""

    q = forms.CharField(
        label="Search",
        max_length=QUERY_LIMIT,
        error_messages={"required": "Type a word to search for."},
    )
