"""The dashboard's 403 page: why the request was refused, and where to go instead.

404 and 500 are Django's own handlers with our templates (templates/404.html, 500.html);
the 500 page is rendered without a request context, so it needs neither the database nor
a user.
"""

from django.shortcuts import render
from django.urls import reverse

# Refusals without a message of their own (Django's, a library's).
NO_REASON = "Your role in this organisation does not allow it."


def permission_denied(request, exception):
    """handler403: the PermissionDenied's reason, and a way back to the engagement when the
    page belongs to one (a 403 there means the user can see it: otherwise it is a 404)."""
    match = request.resolver_match
    engagement_url = None
    if match and match.route.startswith("engagements/<int:pk>/") and "pk" in match.kwargs:
        engagement_url = reverse("engagement-detail", args=[match.kwargs["pk"]])
    return render(
        request,
        "403.html",
        {"reason": str(exception) or NO_REASON, "engagement_url": engagement_url},
        status=403,
    )
