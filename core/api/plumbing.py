"""API classes named in settings.REST_FRAMEWORK.

Kept apart from core.api.base: DRF imports these while its views module is still
loading, so this module must not import DRF views or viewsets.
"""

from django.core.cache import caches
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from rest_framework import throttling
from rest_framework.pagination import PageNumberPagination


class ApiTokenAuthentication(TokenAuthentication):
    """Knox token authentication that records when each token was last used."""

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


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Per web process: the counters stay in memory, so a GET writes nothing."""

    cache = caches["throttle"]


class UserRateThrottle(throttling.UserRateThrottle):
    """Per web process, like AnonRateThrottle."""

    cache = caches["throttle"]
