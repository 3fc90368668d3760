"""Tenancy for the server-rendered pages: one engagement, or 404.

The API applies the same rule through relationships.api_base.TenantViewSet.
"""

from django.http import Http404

from relationships.models import Engagement


def visible_engagement_or_404(user, pk) -> Engagement:
    try:
        return Engagement.objects.visible_to(user).get(pk=pk)
    except (Engagement.DoesNotExist, ValueError, TypeError):
        raise Http404("No such engagement.") from None
