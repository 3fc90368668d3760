"""Agreeing a change to an engagement's terms in tests, as the two sides do (PRODUCT.md §7)."""

from relationships.change_requests import change_request_accept, terms_change


def agreed(*, engagement, subject, values, asker, accepter, sla=None, goal=None):
    """One side asks, the other accepts; the accepted ChangeRequest."""
    change = terms_change(
        engagement=engagement, user=asker, subject=subject, values=values, sla=sla, goal=goal
    )
    return change_request_accept(change_request=change.change_request, user=accepter)
