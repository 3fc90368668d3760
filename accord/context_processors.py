"""Template context every page shares."""

from notices.selectors import unread_count


def memberships(request):
    """The signed-in user's memberships with their organisations, for the header.

    One query however many organisations; the queryset is lazy, so pages that do
    not render the header do not run it.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"header_memberships": ()}
    return {
        "header_memberships": user.memberships.select_related("organization").order_by(
            "organization__name"
        )
    }


def notices(request):
    """The header's count of unread notices: a callable, so only a page that renders the
    header counts them (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"header_unread_notices": lambda: unread_count(user)}
