"""A database outage answers a plain 503, never a traceback; the Content-Security-Policy."""

import sys
from functools import cache

from csp.middleware import CSPMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.html import conditional_escape
from django.views import defaults
from rest_framework.compat import pygments_css
from rest_framework.renderers import BrowsableAPIRenderer

from core.content_security import source_hash, style_attributes_allowed

OUTAGE_ERRORS = (OperationalError, InterfaceError)


def outage_response(request):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": "Accord's database is unavailable; try again shortly.",
                "code": "service_unavailable",
            },
            status=503,
        )
    return HttpResponse(
        "Accord is temporarily unavailable; try again shortly.\n",
        status=503,
        content_type="text/plain",
    )


class ServiceUnavailableMiddleware:
    """Turns outages raised by views into 503s (also when DEBUG is on)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OUTAGE_ERRORS):
            return outage_response(request)
        return None


def server_error(request, template_name="500.html"):
    """handler500: outages raised outside views (sessions, auth middleware) are 503s too."""
    if isinstance(sys.exc_info()[1], OUTAGE_ERRORS):
        return outage_response(request)
    return defaults.server_error(request, template_name)


@cache
def browsable_api_styles() -> dict[str, list[str]]:
    """The fixed inline styles of DRF's browsable API templates: style attributes of its
    page, ordering filter and nested form fields, and (with Pygments) its code style."""
    allowed = style_attributes_allowed(
        "float: right; margin-right: 10px",
        "float: right",
        "border-bottom: 1px solid #e5e5e5",
        "border-bottom: 0",
    )
    code_style = pygments_css(BrowsableAPIRenderer.code_style)
    if code_style:
        allowed["style-src"] = [source_hash(conditional_escape(code_style))]
    return allowed


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (policy in settings); the pages of DRF's browsable API also
    allow the fixed inline styles of DRF's templates, by hash."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if isinstance(getattr(response, "accepted_renderer", None), BrowsableAPIRenderer):
            parts.update = {**browsable_api_styles(), **(parts.update or {})}
        return parts
