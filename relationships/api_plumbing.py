"""API classes named in settings.REST_FRAMEWORK.

Kept apart from api_base: DRF imports these while its views module is still
loading, so this module must not import DRF views or viewsets.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
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
