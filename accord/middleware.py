from django.db import DatabaseError, InterfaceError
from django.http import HttpResponse, JsonResponse


class ServiceUnavailableMiddleware:
    """Answer a plain 503 when the database cannot be reached, never a traceback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (DatabaseError, InterfaceError)) or not _is_outage(exception):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "detail": "Accord's database is unavailable; try again shortly.",
                    "code": "service_unavailable",
                },
                status=503,
            )
        return HttpResponse(
            "Accord is temporarily unavailable; try again shortly.",
            status=503,
            content_type="text/plain",
        )


def _is_outage(exception) -> bool:
    from django.db import OperationalError

    return isinstance(exception, (OperationalError, InterfaceError))
