"""One error format for the whole API: {"detail", "code", "errors": {field: [messages]}}.

DRF errors, Django ValidationError and PermissionDenied raised by the services,
and database conflicts all end up in that shape, so integrations parse one
structure and never see a traceback for bad input.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service Accord depends on is unavailable; try again shortly."
    default_code = "service_unavailable"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with data that already exists."
    default_code = "conflict"


NON_FIELD = "non_field_errors"


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """Nested errors as {"field.sub[2]": [messages]}: every message names its field."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            if isinstance(key, int):  # list items, keyed by their index
                name = f"{prefix or NON_FIELD}[{key}]"
            else:
                name = key if not prefix else f"{prefix}.{key}"
            flat.update(flatten_errors(value, name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            if value:
                flat.update(flatten_errors(value, f"{prefix or NON_FIELD}[{index}]"))
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {prefix or NON_FIELD: [str(item) for item in items]}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = as_serializer_error(exc)
        # A service's error about no one field ("__all__") reads as the serializers' do.
        if NON_FIELD_ERRORS in detail:
            detail.setdefault(NON_FIELD, []).extend(detail.pop(NON_FIELD_ERRORS))
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, IntegrityError):
        exc = Conflict()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        body = {"detail": _summary(errors), "code": "invalid", "errors": errors}
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        body = {
            "detail": str(detail),
            "code": code if isinstance(code, str) else "error",
            "errors": {},
        }
    response.data = body
    return response


def _summary(errors: dict[str, list[str]]) -> str:
    field, messages = next(iter(errors.items()), (NON_FIELD, ["Invalid input."]))
    first = messages[0] if messages else "Invalid input."
    return first if field == NON_FIELD else f"{field}: {first}"


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx/5xx answer of the API."""

    detail = serializers.CharField(help_text="A sentence describing the problem.")
    code = serializers.CharField(
        help_text="Machine-readable code, e.g. invalid, not_found, permission_denied."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (`non_field_errors` for the input as a whole).",
    )


_ERRORS = {
    "400": "Invalid input: see `errors` for the messages per field or query parameter.",
    "401": "Not authenticated: log in or send `Authorization: Token <token>`.",
    "403": "Not allowed: viewers cannot change records; writes need an active engagement.",
    "404": "Not found, or not in one of your engagements.",
    "429": "Too many requests: slow down and retry later.",
}


_ACTION_DESCRIPTIONS = {
    "list": "List the {plural} you can see (paginated; filters and ordering below).",
    "retrieve": "Read one {name}.",
    "create": "Add a {name}.",
    "update": "Change a {name} (all writable fields).",
    "partial_update": "Change some fields of a {name}.",
    "destroy": "Delete a {name}.",
}


class ApiAutoSchema(AutoSchema):
    """Every operation gets a tag per resource, a description, the shared error responses,
    and its action's own query parameters (core.api.base.ApiViewSet's query_serializer)."""

    def get_override_parameters(self):
        query = getattr(self.view, "query_serializer", None)
        return [*super().get_override_parameters(), *([query] if query else [])]

    def get_tags(self):
        # /api/v1/<resource>/... → one group per resource in the interactive docs.
        parts = [part for part in self.path.split("/") if part]
        return [parts[2] if len(parts) > 2 else parts[-1]]

    def get_description(self):
        description = super().get_description()
        if description:
            return description
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        template = _ACTION_DESCRIPTIONS.get(getattr(self.view, "action", None) or "")
        if model is None or template is None:
            return f"{self.method} {self.path}"
        meta = model._meta
        return template.format(name=meta.verbose_name, plural=meta.verbose_name_plural)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        # Any operation answers 400 to a query parameter it does not read.
        codes = ["400", "401", "403", "429"]
        if "{" in self.path:
            codes.append("404")
        for code in sorted(codes):
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=_ERRORS[code]), code
                )
        return responses
