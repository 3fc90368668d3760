"""Read-side queries of the feedback domain, for the dashboard and the API."""

from django.db.models import Count, Q

from feedback.models import ContributionReview


def reviews_with_completeness(queryset=None):
    """Reviews annotated with `complete`: each side has committed to an action, in one query."""
    queryset = ContributionReview.objects.all() if queryset is None else queryset
    live = Q(action_items__cancelled=False)
    return queryset.annotate(
        client_actions=Count("action_items", filter=live & Q(action_items__owner_side="client")),
        provider_actions=Count(
            "action_items", filter=live & Q(action_items__owner_side="provider")
        ),
    ).annotate(
        complete=Q(client_actions__gt=0) & Q(provider_actions__gt=0),
    )
