"""The base of every dashboard form: core.inputs' rules on every typed field.

Fields are found by kind, not listed, so a field added later gets the rules too.
"""

from django import forms
from django.core.exceptions import ValidationError

from core.inputs import (
    ASCII_DIGITS_MESSAGE,
    MAX_ID,
    has_non_ascii,
    validate_date,
    validate_moment,
)

# Fields whose input is a number, an id, a date or a time (FloatField and
# DecimalField are IntegerFields; ModelMultipleChoiceField is a ModelChoiceField).
TYPED_FIELDS = (
    forms.IntegerField,
    forms.DateField,
    forms.DateTimeField,
    forms.TimeField,
    forms.DurationField,
    forms.ModelChoiceField,
)
RANGE_VALIDATORS = ((forms.DateTimeField, validate_moment), (forms.DateField, validate_date))


class AccordFormMixin:
    """Dates and times in core.inputs' range (a time in the current time zone, which the
    dashboard's engagement pages set to the engagement's); typed input in ASCII digits."""

    def full_clean(self):
        for field in self.fields.values():
            add_range_validator(field)
        super().full_clean()
        if not self.is_bound:
            return
        for name, field in self.fields.items():
            if (
                isinstance(field, TYPED_FIELDS)
                and not field.disabled
                and name not in self._errors
                and has_non_ascii(self[name].data)
            ):
                self.add_error(name, ASCII_DIGITS_MESSAGE)


def add_range_validator(field) -> None:
    """Give a date or date-time field the range of core.inputs (once)."""
    for kind, validator in RANGE_VALIDATORS:
        if isinstance(field, kind):
            if validator not in field.validators:
                field.validators.append(validator)
            return


class AccordForm(AccordFormMixin, forms.Form):
    pass


class IdField(forms.IntegerField):
    """A record's id: ASCII digits, from 1 to MAX_ID (a larger number is no id, and would
    overflow the database's integer)."""

    def __init__(self, **kwargs):
        super().__init__(**{"min_value": 1, "max_value": MAX_ID, **kwargs})

    def to_python(self, value):
        if has_non_ascii(value):
            raise ValidationError(ASCII_DIGITS_MESSAGE, code="invalid")
        return super().to_python(value)
