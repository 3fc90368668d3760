"""The pieces every API viewset and serializer of Accord stands on.

Engagement-scoped models give their queryset `restrict(user, action)` and their
records `access_for(user)` (see relationships.models.EngagementScoped); this module
relies on those alone, so it knows no app.

- `ApiViewSet`, the base of every API viewset, refuses a query parameter the operation
  does not read (400 naming it, as an unknown body field is) and reads an action's own
  query through its `query_serializer`.
- `ApiFilterSet` names every date filter by one scheme: `<field>`, `<field>_after`,
  `<field>_before`.
- `TenantViewSet` restricts every queryset to the user's engagements (outsiders
  get 404) and checks writes with the record's `access_for` (viewers get 403, and nobody
  adds data to an engagement that is not active).
- `StrictSerializer` and `StrictModelSerializer` apply core.inputs' rules to every
  typed field (ASCII digits; dates and times in range).
- `StrictModelSerializer` rejects unknown and read-only input fields, caps text
  sizes, restricts every referenced object to the user's engagements, requires
  referenced objects to belong to the same engagement, and runs the model's own
  validation, so bad input is a 400 with field errors and never a 500.

Token authentication and pagination live in core/api/plumbing.py.
"""

import copy
import difflib
from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.forms import IdField
from core.inputs import ASCII_DIGITS_MESSAGE, has_non_ascii, validate_date, validate_moment

MAX_TEXT_LENGTH = 20_000


class IdFilter(filters.NumberFilter):
    """A filter by a related object's id; an id that is not a whole number from 1 to
    MAX_ID (in ASCII digits) is a 400, an unknown one filters to nothing."""

    field_class = IdField


class ApiFilterSet(filters.FilterSet):
    """Filters by id for related objects: an unknown id filters to nothing, it leaks nothing.

    Every date field named in `dates` is filtered by the API's one scheme (date_filters).
    """

    dates: tuple[str, ...] = ()
    # The lookup of a date in `dates` that is not a date column of the list: a timestamp's
    # `__date`, or a related record's date.
    date_lookups: dict[str, str] = {}

    class Meta:
        filter_overrides = {
            field: {"filter_class": IdFilter} for field in (models.ForeignKey, models.OneToOneField)
        }

    @classmethod
    def get_filters(cls):
        found = super().get_filters()
        for field_name in cls.dates:
            found.update(date_filters(field_name, cls.date_lookups.get(field_name, field_name)))
        return found


def date_filters(field_name: str, lookup: str = "") -> dict[str, filters.DateFilter]:
    """The API's filters of a date field, named after it: `<field>` (that day),
    `<field>_after` and `<field>_before` (both inclusive); `lookup` reads the date when
    the field is not one (a timestamp's `<field>__date`)."""
    lookup = lookup or field_name
    return {
        field_name: filters.DateFilter(field_name=lookup, help_text="On this day."),
        f"{field_name}_after": filters.DateFilter(
            field_name=lookup, lookup_expr="gte", help_text="On or after this day."
        ),
        f"{field_name}_before": filters.DateFilter(
            field_name=lookup, lookup_expr="lte", help_text="On or before this day."
        ),
    }


def date_range_query(field_name: str, days) -> dict[str, str]:
    """The query of date_filters for the days from `days.start` to `days.end` (a period)."""
    return {
        f"{field_name}_after": days.start.isoformat(),
        f"{field_name}_before": days.end.isoformat(),
    }


def change_schema(description: str) -> dict:
    """extend_schema_view arguments describing a change by PUT and by PATCH alike."""
    return {
        "update": extend_schema(description=description),
        "partial_update": extend_schema(description=description),
    }


# ---------------------------------------------------------------- query parameters
UNKNOWN_QUERY_PARAMETER = "Unknown query parameter."


# Base of every API viewset: a query parameter the operation does not read is a 400
# naming it, as an unknown body field is, so a misspelt or renamed filter is never
# silently ignored. An operation reads `format` (DRF's choice of renderer); an action its
# own `query_serializer`'s fields, validated into `self.query` before it runs; a list (the
# `list` action, or an action declared with `answers_list=True`) its filter backends'
# parameters (an action may empty `filter_backends`) and the paginator's. The schema
# declares the same (core.api.errors.ApiAutoSchema). (No docstring: the schema would take
# it as the description of operations.)
class ApiViewSet(viewsets.GenericViewSet):
    query_serializer = None
    answers_list = False

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        given = set(request.query_params)
        if given:
            known = self.query_parameters()
            if unknown := sorted(given - known):
                raise serializers.ValidationError(
                    {name: [_unknown_parameter_message(name, known)] for name in unknown}
                )
        self.query = {}
        if self.query_serializer is not None:
            query = self.query_serializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            self.query = query.validated_data

    def query_parameters(self) -> set[str]:
        """The query parameters this operation reads."""
        known = {api_settings.URL_FORMAT_OVERRIDE}
        if self.query_serializer is not None:
            known.update(self.query_serializer().fields)
        if self.action == "list" or self.answers_list:
            readers = [backend_class() for backend_class in self.filter_backends]
            for reader in [*readers, *([self.paginator] if self.paginator else [])]:
                if isinstance(reader, DjangoFilterBackend):
                    filterset = reader.get_filterset_class(self, self.get_queryset())
                    known.update(filterset.base_filters if filterset else ())
                else:
                    known.update(p["name"] for p in reader.get_schema_operation_parameters(self))
        return known


def _unknown_parameter_message(name: str, known: set[str]) -> str:
    listed = sorted(known - {api_settings.URL_FORMAT_OVERRIDE})
    if not listed:
        return f"{UNKNOWN_QUERY_PARAMETER} This endpoint takes none."
    # A name ending as the unknown one does (`_after`, `_before`) first.
    ending = f"_{name.rpartition('_')[2]}"
    alike = [known_name for known_name in listed if known_name.endswith(ending)]
    close = difflib.get_close_matches(name, alike, n=1) or difflib.get_close_matches(
        name, listed, n=1
    )
    hint = f" Did you mean {close[0]}?" if close else ""
    return f"{UNKNOWN_QUERY_PARAMETER}{hint} This endpoint takes {', '.join(listed)}."


# List and read; subclasses add the mixins of the writes they take. (No docstring: the
# schema would take it as the description of their operations.)
class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    pass


# ---------------------------------------------------------------- tenancy
class EngagementWriteAccess(permissions.IsAuthenticated):
    """Any member reads; changing an existing record goes through the view's `check_write`."""

    def has_object_permission(self, request, view, obj):
        if request.method not in permissions.SAFE_METHODS:
            view.check_write(obj)
        return True


class TenantViewSet(ApiViewSet):
    """Base of every engagement-scoped API viewset.

    `get_queryset` always restricts to the user's engagements, so a subclass only
    sets `queryset` (with its select_related) and cannot forget tenancy.
    """

    permission_classes = [EngagementWriteAccess]

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user)

    def check_write(self, obj) -> None:
        """PermissionDenied unless the user may write to the record's engagement."""
        obj.access_for(self.request.user).require("write")

    def check_create(self, engagement) -> None:
        """PermissionDenied unless the user may add records to the engagement.

        Called by StrictModelSerializer.validate, which every write passes through,
        so no combination of DRF mixins can skip it.
        """
        engagement.access_for(self.request.user).require("write")

    def answer_with(self, service, *, record: str, given=None):
        """The requested record as `service` leaves it, given the record (as keyword
        `record`), the user and the input validated by the `given` serializer."""
        validated = {}
        if given is not None:
            request_body = given(data=self.request.data)
            request_body.is_valid(raise_exception=True)
            validated = request_body.validated_data
        changed = service(**{record: self.get_object()}, user=self.request.user, **validated)
        return Response(self.get_serializer(changed).data)


# List, read, add and change records of an engagement; a change is validated by
# `update_serializer_class`, fixing what is set at creation. (No docstring: see ReadViewSet.)
class EditableViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadViewSet, TenantViewSet):
    update_serializer_class = None

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return self.update_serializer_class
        return super().get_serializer_class()


class RecordViewSet(mixins.CreateModelMixin, ReadViewSet, TenantViewSet):
    """List, read and add records; a record is added by its app's service function.

    `create_service` is a keyword-only service taking `user` and the validated
    input, which checks the user's right to write and derives their side.
    """

    create_service = None

    def perform_create(self, serializer):
        serializer.instance = self.create_service(
            user=self.request.user, **serializer.validated_data
        )


# ---------------------------------------------------------------- serializers
class RejectUnknownFields:
    """Input naming a field the serializer does not write is refused, not silently dropped."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown or read-only field."] for name in unknown}
                )
        return super().to_internal_value(data)


class RejectUnknownFieldsSchema(OpenApiSerializerExtension):
    """The schema says what RejectUnknownFields does: a request body takes no other property."""

    target_class = RejectUnknownFields
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


# Fields whose input is a number, an id, a date or a time.
TYPED_FIELDS = (
    serializers.IntegerField,
    serializers.FloatField,
    serializers.DecimalField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
    serializers.DurationField,
    serializers.RelatedField,
    serializers.ManyRelatedField,
)
RANGE_VALIDATORS = (
    (serializers.DateTimeField, validate_moment),
    (serializers.DateField, validate_date),
)


def _inner(field):
    """The field that reads each item of a list or dict field, else the field itself."""
    return getattr(field, "child", None) or getattr(field, "child_relation", None) or field


class TypedInputRules:
    """core.inputs' rules on every typed field, found by kind (items of list and dict
    fields included): ASCII digits only, and dates and times within the range."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            for kind, validator in RANGE_VALIDATORS:
                if isinstance(_inner(field), kind):
                    _inner(field).validators.append(validator)
                    break
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {
                name: [ASCII_DIGITS_MESSAGE]
                for name, field in self.fields.items()
                if not field.read_only
                and isinstance(_inner(field), TYPED_FIELDS)
                and has_non_ascii(field.get_value(data))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(RejectUnknownFields, TypedInputRules, serializers.Serializer):
    """Base of the API's plain input serializers."""


class QuerySerializer(TypedInputRules, serializers.Serializer):
    """An action's own query parameters (`@action(query_serializer=...)`, see ApiViewSet,
    which refuses any other)."""


class StrictModelSerializer(RejectUnknownFields, TypedInputRules, serializers.ModelSerializer):
    """A model serializer for writes that cannot take bad input quietly."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        for field in fields.values():
            related = getattr(field, "child_relation", field)
            queryset = getattr(related, "queryset", None)
            if request is not None and hasattr(queryset, "restrict"):
                related.queryset = queryset.restrict(request.user)
        return fields

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, models.TextField) and "max_length" not in kwargs:
            kwargs["max_length"] = MAX_TEXT_LENGTH
        return field_class, kwargs

    def validate(self, attrs):
        attrs = super().validate(attrs)
        candidate = self._candidate(attrs)
        if hasattr(candidate, "owning_engagement"):
            engagement = candidate.owning_engagement()
            view = self.context.get("view")
            if self.instance is None and hasattr(view, "check_create"):
                view.check_create(engagement)
            self._check_same_engagement(attrs, engagement)
        self._full_clean(candidate, attrs)
        return attrs

    def _check_same_engagement(self, attrs, engagement):
        """Records referenced by id belong to the engagement; people to one of its parties."""
        errors = {}
        people = {}
        for name, item in _referenced(attrs):
            if isinstance(item, get_user_model()):
                people.setdefault(item.pk, []).append(name)
            elif hasattr(item, "belongs_to") and not item.belongs_to(engagement):
                errors[name] = [f"Choose a {item._meta.verbose_name} of this engagement."]
        for user_id in set(people) - engagement.members_among(people):
            for name in people[user_id]:
                errors[name] = ["Choose a member of the client or the provider."]
        if errors:
            raise serializers.ValidationError(errors)

    def _candidate(self, attrs):
        """The record as the input would leave it: a copy, so the view still sees the
        stored values until it saves."""
        candidate = copy.copy(self.instance) if self.instance else self.Meta.model()
        for field in candidate._meta.concrete_fields:
            if field.name in attrs:
                setattr(candidate, field.name, attrs[field.name])
        return candidate

    def _full_clean(self, candidate, attrs):
        concrete = {f.name for f in candidate._meta.concrete_fields}
        provided = set(attrs) | (concrete if self.instance else set())
        try:
            candidate.full_clean(exclude=concrete - provided, validate_unique=True)
        except DjangoValidationError as error:
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from None


def _referenced(value, name=""):
    """(field path, model instance) for every object in validated input, nested included."""
    if isinstance(value, models.Model):
        yield name, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _referenced(item, f"{name}.{key}" if name else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _referenced(item, f"{name}[{index}]" if isinstance(item, dict) else name)
