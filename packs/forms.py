from django import forms

from core.forms import AccordForm
from relationships.periods import QUARTER, period_containing

QUARTERS_OFFERED = 8


def ended_quarters(today) -> list[tuple[str, str]]:
    """The last QUARTERS_OFFERED quarters that have ended, newest first, as choices."""
    quarter = period_containing(QUARTER, today).previous()
    choices = []
    for _ in range(QUARTERS_OFFERED):
        choices.append((quarter.start.isoformat(), quarter.title))
        quarter = quarter.previous()
    return choices


class PortfolioPackForm(AccordForm):
    quarter_start = forms.ChoiceField(label="Quarter")

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quarter_start"].choices = ended_quarters(today)
