"""Read-side queries of the feedback domain, for the dashboard and the API."""

from django.db.models import Count, Prefetch, Q

from feedback.models import ActionItem, ContributionReview
from relationships.models import Engagement, Side


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


def contribution_reviews(engagement: Engagement) -> list[ContributionReview]:
    """The engagement's contribution reviews with completeness and live action items by side.

    Each review's `sides` lists (side, label, its live action items).
    """
    live_items = ActionItem.objects.filter(cancelled=False).select_related("owner")
    reviews = list(
        reviews_with_completeness(ContributionReview.objects.filter(issue__engagement=engagement))
        .select_related("issue")
        .prefetch_related(Prefetch("action_items", live_items))
    )
    for review in reviews:
        items = review.action_items.all()
        review.sides = [
            (side, label, [item for item in items if item.owner_side == side])
            for side, label in Side.choices
        ]
    return reviews
