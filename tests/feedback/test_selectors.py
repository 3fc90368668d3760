import pytest

from feedback import selectors
from feedback.models import ContributionReview
from tests.factories import ActionItemFactory, ContributionReviewFactory, IssueFactory

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- reviews
def test_review_completeness_in_one_query(engagement, django_assert_num_queries):
    complete, one_sided, cancelled_side = (
        ContributionReviewFactory(issue=IssueFactory(engagement=engagement)) for _ in range(3)
    )
    for review, sides in [
        (complete, [("client", False), ("provider", False)]),
        (one_sided, [("provider", False), ("provider", False)]),
        (cancelled_side, [("client", True), ("provider", False)]),
    ]:
        for side, cancelled in sides:
            ActionItemFactory(
                engagement=engagement, review=review, owner_side=side, cancelled=cancelled
            )
    with django_assert_num_queries(1):
        flags = {
            review.pk: review.complete
            for review in selectors.reviews_with_completeness(ContributionReview.objects.all())
        }
    assert flags == {complete.pk: True, one_sided.pk: False, cancelled_side.pk: False}
