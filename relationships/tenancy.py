"""Tenancy for the API, applied once: every engagement-scoped queryset goes through here."""

from django.http import Http404

from relationships.models import Engagement


class EngagementScopedMixin:
    """Restricts a viewset's queryset to engagements the requesting user is a party to.

    Set `engagement_field` to the lookup path from the model to its engagement
    (e.g. "sla__engagement"). Objects outside the user's engagements are simply
    not in the queryset, so they answer 404, never 403.
    """

    engagement_field = "engagement"

    def get_queryset(self):
        queryset = super().get_queryset()
        visible = Engagement.objects.visible_to(self.request.user)
        return queryset.filter(**{f"{self.engagement_field}__in": visible})


def visible_engagement_or_404(user, pk) -> Engagement:
    try:
        return Engagement.objects.visible_to(user).get(pk=pk)
    except (Engagement.DoesNotExist, ValueError, TypeError):
        raise Http404("No such engagement.") from None
