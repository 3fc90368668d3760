"""The pieces every API viewset and serializer of Accord stands on.

- `TenantViewSet` restricts every queryset to the user's engagements (outsiders
  get 404) and checks writes with the engagement's `access_for` (viewers get 403, and nobody
  adds data to an engagement that is not active).
- `StrictModelSerializer` rejects unknown and read-only input fields, caps text
  sizes, scopes every referenced object to the user's engagements, requires
  referenced objects to belong to the same engagement, and runs the model's own
  validation, so bad input is a 400 with field errors and never a 500.

Token authentication and pagination live in relationships/api_plumbing.py.
"""

import copy
import functools

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import mixins, permissions, serializers, viewsets

from relationships.models import Engagement

MAX_TEXT_LENGTH = 20_000


# ---------------------------------------------------------------- tenancy
@functools.cache
def engagement_path(model) -> str:
    """The lookup from a model to its engagement: "pk", "engagement" or one hop away."""
    if model is Engagement:
        return "pk"
    names = {f.name for f in model._meta.get_fields()}
    if "engagement" in names:
        return "engagement"
    for field in model._meta.get_fields():
        forward = field.many_to_one or (field.one_to_one and field.concrete)
        if forward and not field.null and field.related_model is not None:
            if field.related_model is Engagement:
                return field.name
            if "engagement" in {f.name for f in field.related_model._meta.get_fields()}:
                return f"{field.name}__engagement"
    raise LookupError(f"{model.__name__} has no path to an engagement")


def engagement_id_of(obj) -> int:
    path = engagement_path(type(obj))
    if path == "pk":
        return obj.pk
    holder = obj
    for part in path.split("__")[:-1]:
        holder = getattr(holder, part)
    return holder.engagement_id


def scope_to_user(queryset, user):
    """Only the rows of engagements the user is a party to."""
    path = engagement_path(queryset.model)
    visible = Engagement.objects.visible_to(user)
    return queryset.filter(**{f"{path}__in": visible})


class EngagementWriteAccess(permissions.IsAuthenticated):
    """Any member reads; changing an existing record goes through the view's `check_write`."""

    def has_object_permission(self, request, view, obj):
        if request.method not in permissions.SAFE_METHODS:
            view.check_write(obj)
        return True


class TenantViewSet(viewsets.GenericViewSet):
    """Base of every engagement-scoped API viewset.

    `get_queryset` always filters by the user's engagements, so a subclass only
    sets `queryset` (with its select_related) and cannot forget tenancy.
    """

    permission_classes = [EngagementWriteAccess]

    def get_queryset(self):
        return scope_to_user(super().get_queryset(), self.request.user)

    def check_write(self, obj) -> None:
        """PermissionDenied unless the user may write to the record's engagement."""
        self.engagement_for(obj).access_for(self.request.user).require("write")

    @staticmethod
    def engagement_for(obj) -> Engagement:
        if isinstance(obj, Engagement):
            return obj
        return Engagement.objects.get(pk=engagement_id_of(obj))

    def check_create(self, engagement: Engagement) -> None:
        """PermissionDenied unless the user may add records to the engagement.

        Called by StrictModelSerializer.validate, which every write passes through,
        so no combination of DRF mixins can skip it.
        """
        engagement.access_for(self.request.user).require("write")


class RecordViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantViewSet
):
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


class StrictSerializer(RejectUnknownFields, serializers.Serializer):
    """Base of the API's plain input serializers."""


class StrictModelSerializer(RejectUnknownFields, serializers.ModelSerializer):
    """A model serializer for writes that cannot take bad input quietly."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        for field in fields.values():
            related = getattr(field, "child_relation", field)
            queryset = getattr(related, "queryset", None)
            if queryset is not None and request is not None and _has_engagement(queryset.model):
                related.queryset = scope_to_user(queryset, request.user)
        return fields

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, models.TextField) and "max_length" not in kwargs:
            kwargs["max_length"] = MAX_TEXT_LENGTH
        return field_class, kwargs

    def anchor_engagement(self, attrs) -> Engagement:
        """The engagement the written record belongs to."""
        model = self.Meta.model
        if not _has_engagement(model):
            return None
        path = engagement_path(model)
        if path == "pk":
            return self.instance
        first = path.split("__")[0]
        anchor = attrs.get(first) or getattr(self.instance, first, None)
        return anchor if path == "engagement" else anchor.engagement

    def validate(self, attrs):
        attrs = super().validate(attrs)
        engagement = self.anchor_engagement(attrs)
        if engagement is not None:
            view = self.context.get("view")
            if self.instance is None and hasattr(view, "check_create"):
                view.check_create(engagement)
            self._check_same_engagement(attrs, engagement)
        self._full_clean(attrs)
        return attrs

    def _check_same_engagement(self, attrs, engagement):
        """Records referenced by id belong to the engagement; people to one of its parties."""
        errors = {}
        people = {}
        for name, item in _referenced(attrs):
            if isinstance(item, get_user_model()):
                people.setdefault(item.pk, []).append(name)
            elif not isinstance(item, Engagement) and _has_engagement(type(item)):
                if engagement_id_of(item) != engagement.pk:
                    errors[name] = [f"Choose a {_label(item)} of this engagement."]
        for user_id in set(people) - engagement.members_among(people):
            for name in people[user_id]:
                errors[name] = ["Choose a member of the client or the provider."]
        if errors:
            raise serializers.ValidationError(errors)

    def _full_clean(self, attrs):
        model = self.Meta.model
        # A copy: the view still sees the stored values until it saves.
        instance = copy.copy(self.instance) if self.instance else model()
        concrete = {f.name for f in model._meta.concrete_fields}
        for name, value in attrs.items():
            if name in concrete:
                setattr(instance, name, value)
        provided = set(attrs) | (concrete if self.instance else set())
        try:
            instance.full_clean(exclude=concrete - provided, validate_unique=True)
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


def _has_engagement(model) -> bool:
    try:
        engagement_path(model)
    except LookupError:
        return False
    return True


def _label(obj) -> str:
    return obj._meta.verbose_name
