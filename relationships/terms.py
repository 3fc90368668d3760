"""The terms of an engagement (PRODUCT.md §7), subject by subject: which fields they are,
how their values are read from input, kept as JSON, compared and shown.

relationships.change_requests changes them; the ChangeRequest model shows its rows here.
"""

import copy
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from core.inputs import ASCII_DIGITS_MESSAGE, has_non_ascii, validate_date
from relationships import names
from relationships.models import (
    SLA,
    ChangeRequest,
    Engagement,
    KeyContact,
    ScoringConfig,
    SharedGoal,
)
from relationships.scoring_config import config_values, differences, setting_problem

Subject = ChangeRequest.Subject

SLA_TERMS = ("name", "owner_side", "unit", "direction", "target", "weight", "active")
GOAL_TERMS = (
    "title",
    "target",
    "start_date",
    "due_date",
    "client_contact",
    "provider_contact",
    "cancelled",
)
SCORING_TERMS = ("weights", "band_limits", "survey_threshold", "grace_days")
TIER_CADENCE_TERMS = (
    "executive_cadence_days",
    "management_cadence_days",
    "operational_cadence_days",
)
ENGAGEMENT_TERMS = ("checkin_cadence_days", "scorecard_period", *TIER_CADENCE_TERMS)
# Given with a new SLA or goal, though not a term: changed later directly, by either side.
NEW_ONLY = ("description",)

TERM_FIELDS = {
    Subject.SLA: SLA_TERMS,
    Subject.GOAL: GOAL_TERMS,
    Subject.SCORING_CONFIG: SCORING_TERMS,
    Subject.ENGAGEMENT: ENGAGEMENT_TERMS,
}
MODELS = {
    Subject.SLA: SLA,
    Subject.GOAL: SharedGoal,
    Subject.SCORING_CONFIG: ScoringConfig,
    Subject.ENGAGEMENT: Engagement,
}
_LABELS = {"checkin_cadence_days": "Check-in cadence (days)", "scorecard_period": "Period kind"}


def thing_key(subject: str, instance: models.Model, proposed: dict) -> str:
    """What a request changes, for "at most one open request per thing"."""
    if subject in (Subject.SCORING_CONFIG, Subject.ENGAGEMENT):
        return subject
    if instance.pk is None:
        name = proposed.get("name" if subject == Subject.SLA else "title", "")
        return f"{subject}-new:{names.organization_name_key(name)}"
    return f"{subject}:{instance.pk}"


def allowed_fields(subject: str, *, new: bool) -> tuple[str, ...]:
    return TERM_FIELDS[subject] + (
        NEW_ONLY if new and subject in (Subject.SLA, Subject.GOAL) else ()
    )


# ---------------------------------------------------------------- values as JSON
def _field(model, name: str) -> models.Field:
    return model._meta.get_field(name)


def to_json(model, name: str, value):
    """A term's value as JSON: decimals as their shortest text, dates ISO, records by id."""
    if model is ScoringConfig:
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return decimal_text(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def decimal_text(value: Decimal) -> str:
    """The shortest text of a decimal: 99.500000 as 99.5, 100 (not 1E+2) as 100."""
    return format(value.normalize(), "f")


def snapshot(subject: str, instance: models.Model) -> dict:
    """The term fields of a stored SLA, goal, configuration or engagement, as JSON."""
    if instance.pk is None and subject in (Subject.SLA, Subject.GOAL):
        return {}
    model = MODELS[subject]
    return {
        name: to_json(model, name, getattr(instance, _field(model, name).attname))
        for name in TERM_FIELDS[subject]
    }


def parse(subject: str, values: dict, *, new: bool) -> dict:
    """The input values as the model's Python values, keyed by field; a ValidationError
    keyed by field names what is wrong (unknown fields, wrong types)."""
    if not isinstance(values, dict) or not values:
        raise ValidationError({"values": "Give the terms to change, by name."})
    allowed = allowed_fields(subject, new=new)
    errors, parsed = {}, {}
    for name, raw in values.items():
        if name not in allowed:
            errors[name] = (
                f"Not a term of the {subject.replace('_', ' ')}; the terms are "
                f"{', '.join(allowed)}."
            )
            continue
        try:
            parsed[name] = _parse_value(subject, name, raw)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    return parsed


def _parse_value(subject: str, name: str, raw):
    if subject == Subject.SCORING_CONFIG:
        if has_non_ascii(raw):
            raise ValidationError(ASCII_DIGITS_MESSAGE)
        problem = setting_problem(name, raw)
        if problem:
            raise ValidationError(problem)
        if isinstance(raw, dict):
            return {key: float(value) for key, value in raw.items()}
        return raw
    field = _field(MODELS[subject], name)
    if isinstance(raw, str) and "\x00" in raw:
        raise ValidationError("Text cannot contain NUL characters.")
    if isinstance(field, models.ForeignKey):
        if isinstance(raw, KeyContact) or raw is None:
            return raw
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValidationError("Give the contact's id.")
    if isinstance(raw, (dict, list)):
        raise ValidationError("Give a single value.")
    if not isinstance(field, models.CharField | models.TextField) and has_non_ascii(raw):
        raise ValidationError(ASCII_DIGITS_MESSAGE)
    if isinstance(field, models.BooleanField) and not isinstance(raw, bool):
        raise ValidationError("Give true or false.")
    if isinstance(field, models.DecimalField | models.IntegerField) and isinstance(raw, bool):
        raise ValidationError("Give a number.")
    if isinstance(field, models.DecimalField) and isinstance(raw, float):
        raw = repr(raw)  # the number as written in JSON, not its binary neighbour
    if isinstance(field, models.CharField | models.TextField):
        if not isinstance(raw, str):
            raise ValidationError("Give text.")
        raw = raw.strip()
    value = field.to_python(raw)
    if isinstance(field, models.ForeignKey) and value is not None:
        value = KeyContact.objects.filter(pk=value).first() or value
    if isinstance(field, models.DateField) and value is not None:
        validate_date(value)
    return value


def with_values(subject: str, instance: models.Model, parsed: dict) -> models.Model:
    """A copy of `instance` with the parsed values set (the stored one stays as it is)."""
    candidate = copy.copy(instance)
    model = MODELS[subject]
    for name, value in parsed.items():
        field = _field(model, name)
        if isinstance(field, models.ForeignKey) and not isinstance(value, models.Model):
            setattr(candidate, field.attname, value)  # an unknown id: full_clean names it
        else:
            setattr(candidate, name, value)
    return candidate


def changed_fields(subject: str, instance: models.Model, candidate: models.Model) -> list[str]:
    """The term fields whose effective value differs between the stored record and the
    candidate (a change to an existing one)."""
    if subject == Subject.SCORING_CONFIG:
        return [
            name
            for name in SCORING_TERMS
            if config_values(**{name: getattr(candidate, name)})
            != config_values(**{name: getattr(instance, name)})
        ]
    model = MODELS[subject]
    return [
        name
        for name in TERM_FIELDS[subject]
        if getattr(candidate, _field(model, name).attname)
        != getattr(instance, _field(model, name).attname)
    ]


def proposed_json(subject: str, candidate: models.Model, names_: list[str]) -> dict:
    model = MODELS[subject]
    return {
        name: to_json(model, name, getattr(candidate, _field(model, name).attname))
        for name in names_
    }


def from_json(subject: str, proposed: dict) -> dict:
    """The stored proposed values as the model's Python values (records by id)."""
    if subject == Subject.SCORING_CONFIG:
        return dict(proposed)
    model = MODELS[subject]
    parsed = {}
    for name, raw in proposed.items():
        field = _field(model, name)
        parsed[name] = raw if isinstance(field, models.ForeignKey) else field.to_python(raw)
    return parsed


# ---------------------------------------------------------------- display
def change_rows(subject: str, before: dict, proposed: dict) -> list[tuple[str, str, str]]:
    """(what, before, proposed) as text, for the fields the request changes."""
    if subject == Subject.SCORING_CONFIG:
        old = config_values(**before) if before else config_values()
        new = config_values(**{**before, **proposed})
        return [
            (what.capitalize(), _number_text(was), _number_text(will))
            for what, was, will in differences(old, new)
        ]
    model = MODELS[subject]
    contacts = _contact_names([*before.values(), *proposed.values()], model, proposed)
    rows = []
    for name, value in proposed.items():
        field = _field(model, name)
        label = _LABELS.get(name) or str(field.verbose_name).capitalize()
        rows.append(
            (
                label,
                _text(field, before.get(name), contacts) if name in before else "—",
                _text(field, value, contacts),
            )
        )
    return rows


def _contact_names(values, model, proposed) -> dict[int, str]:
    contact_fields = [
        name
        for name in proposed
        if isinstance(_model_field_or_none(model, name), models.ForeignKey)
    ]
    if not contact_fields:
        return {}
    ids = [value for value in values if isinstance(value, int) and not isinstance(value, bool)]
    return dict(KeyContact.objects.filter(pk__in=ids).values_list("pk", "name"))


def _model_field_or_none(model, name):
    try:
        return _field(model, name)
    except FieldDoesNotExist:
        return None


def _text(field: models.Field, value, contacts: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(field, models.ForeignKey):
        return contacts.get(value, f"contact #{value}")
    if isinstance(field, models.BooleanField):
        return "yes" if value else "no"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _number_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
