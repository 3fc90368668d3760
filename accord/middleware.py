"""A database outage answers a plain 503, never a traceback."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.views import defaults

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
