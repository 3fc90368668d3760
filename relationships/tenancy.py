"""Tenancy for the server-rendered pages: one engagement and the user's access, or 404/403.

The API applies the same rule through core.api.base.TenantViewSet.
"""

from django.http import Http404

from relationships.models import Access, Engagement


def engagement_with_access(
    user, pk, *, action: str = "read", queryset=None
) -> tuple[Engagement, Access]:
    """The engagement the user sees by this id, with their access to it.

    Http404 when they cannot see it (it may as well not exist); PermissionDenied,
    saying why, when they see it but their access does not allow `action`.
    """
    engagements = Engagement.objects if queryset is None else queryset
    try:
        engagement = engagements.visible_to(user).get(pk=pk)
    except (Engagement.DoesNotExist, ValueError, TypeError):
        raise Http404("No such engagement.") from None
    return engagement, engagement.access_for(user).require(action)
