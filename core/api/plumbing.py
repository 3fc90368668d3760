"""API classes named in settings.REST_FRAMEWORK.

Kept apart from core.api.base: DRF imports these while its views module is still
loading, so this module must not import DRF views or viewsets.
"""

import re

import drf_spectacular.authentication
import orjson
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.db import models
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from rest_framework import authentication, exceptions, renderers, throttling
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import BaseParser

from core.signin import LOCKED_MESSAGE, client_address, is_locked_out, locked_message_params

# A token is visible ASCII (its prefix and hex digits). The header arrives as bytes
# (latin-1 on the wire), which knox would decode as UTF-8, failing with a 500.
TOKEN_TEXT = re.compile(rb"[!-~]+")


class ApiTokenAuthentication(TokenAuthentication):
    """Knox token authentication that records when each token was last used."""

    def authenticate_credentials(self, token: bytes):
        if not TOKEN_TEXT.fullmatch(token):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        token.touch()
        return user, token

    def _cleanup_token(self, auth_token) -> bool:
        # Tokens never expire (they are revoked by deleting them), so knox's sweep
        # of the user's other tokens would only cost a query per request.
        return False


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API (its pages' styles are allowed by accord.middleware)."""

    def show_form_for_method(self, view, method, request, obj):
        """Whether to show a form for a write; the write itself is checked when sent."""
        # DRF checks a form's object permission on the serializer's instance, which for a
        # computed body (the scoring configuration, a dict) is no record.
        record = obj if isinstance(obj, models.Model) else None
        try:
            return super().show_form_for_method(view, method, request, record)
        except PermissionDenied:
            # Access.require raises Django's PermissionDenied, which DRF catches only in
            # views: here it turned a viewer's read of a record into a 403 page.
            return False


# Accord's bodies nest three levels ({"rows": [{...}]}); deeper ones are refused before
# any code walks them (Python's repr, json.dumps and copy recurse about 1000 levels deep).
MAX_JSON_DEPTH = 32
_CONTAINERS = (dict, list)


def json_loads(body: bytes):
    """A JSON body as Python values; ParseError for invalid JSON or too deep a nesting.

    orjson refuses NaN and Infinity (not JSON), lone surrogates (which no database
    stores) and more than 1024 levels without recursing in Python; the depth is then
    bounded by MAX_JSON_DEPTH, level by level.
    """
    too_deep = exceptions.ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):
            raise too_deep from None
        raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from None
    level = [data] if isinstance(data, _CONTAINERS) else []
    for _ in range(MAX_JSON_DEPTH):
        if not level:
            break
        level = [
            item
            for container in level
            for item in (container.values() if isinstance(container, dict) else container)
            if isinstance(item, _CONTAINERS)
        ]
    if level:
        raise too_deep
    return data


class JsonParser(BaseParser):
    """Every JSON body of the API, read by json_loads (the bulk endpoint reads its own
    body with json_loads too), so one depth limit holds everywhere."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        return json_loads(stream.read())


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def add_links(result, generator, request, public):
    """OpenAPI links from each create to the operations on what it created.

    A 201 answer's `id` fills the `{id}` of every operation under the collection
    (read, change, its actions), so clients and stateful testers can follow them.
    """
    paths = result.get("paths", {})
    for collection, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None or "{" in collection:
            continue
        links = {
            operation["operationId"]: {
                "operationId": operation["operationId"],
                "parameters": {"id": "$response.body#/id"},
            }
            for path, methods in paths.items()
            if path.startswith(f"{collection}{{id}}/")
            for operation in methods.values()
            if isinstance(operation, dict) and "operationId" in operation
        }
        if links:
            created["links"] = links
    return result


class BasicAuthentication(authentication.BasicAuthentication):
    """A password (the tokens endpoint only), through the same sign-in lock as the pages.

    A sign-in the lock refused answers 429 and says so, rather than "invalid password".
    """

    def authenticate_credentials(self, userid, password, request=None):
        if "\x00" in userid:
            # No username holds one, and PostgreSQL refuses it in a query.
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if is_locked_out(request):
                raise exceptions.Throttled(
                    detail=LOCKED_MESSAGE % locked_message_params()
                ) from None
            raise


class BasicScheme(drf_spectacular.authentication.BasicScheme):
    target_class = BasicAuthentication


class ClientAddressIdent:
    """Anonymous clients are told apart by core.signin.client_address (trusted proxies only)."""

    def get_ident(self, request):
        return client_address(request)


class AnonRateThrottle(ClientAddressIdent, throttling.AnonRateThrottle):
    """Per web process: the counters stay in memory, so a GET writes nothing."""

    cache = caches["throttle"]


class UserRateThrottle(ClientAddressIdent, throttling.UserRateThrottle):
    """Per web process, like AnonRateThrottle."""

    cache = caches["throttle"]
