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


# ---------------------------------------------------------------- survey report
def _respond(engagement, organization, count, **answers):
    from feedback.models import PULSE_FIELDS
    from feedback.services import pulse_submit
    from tests.factories import MembershipFactory, UserFactory

    for _ in range(count):
        user = UserFactory()
        MembershipFactory(user=user, organization=organization, role="viewer")
        pulse_submit(
            engagement=engagement, user=user, answers={**dict.fromkeys(PULSE_FIELDS, 4), **answers}
        )


def test_survey_report_in_a_constant_number_of_queries(on, engagement, django_assert_num_queries):
    from datetime import date

    with on(date(2026, 3, 10)):
        _respond(engagement, engagement.client, 4, mirror_trust_overall=5, nps=9)
        _respond(engagement, engagement.provider, 3, trust_overall=2, stop_doing="Late notes")
    march = engagement.current_period(date(2026, 3, 10))
    with on(date(2026, 4, 10)), django_assert_num_queries(4):
        report = selectors.survey_report(engagement, march)
        blind_spots = report.blind_spots()
    # The client predicts 5 for trust; the provider gave 2: d = 3.
    [(side, line)] = blind_spots
    assert (side.side, line.field, line.gap.gap) == ("client", "trust_overall", 3)
    assert report.sides["provider"].texts["stop_doing"] == ["Late notes"] * 3


def test_mirror_and_rnps_need_the_threshold_of_answers_to_their_question(on, engagement):
    from datetime import date

    with on(date(2026, 3, 10)):
        _respond(engagement, engagement.client, 2, mirror_trust_overall=5, nps=9)
        _respond(engagement, engagement.client, 1)
        _respond(engagement, engagement.provider, 3, nps=10)
    march = engagement.current_period(date(2026, 3, 10))
    with on(date(2026, 4, 10)):
        report = selectors.survey_report(engagement, march)
    client = report.sides["client"]
    # Two of the three clients predicted, two recommended: under the threshold of 3.
    assert client.respondents == 3 and client.rnps is None
    assert [line.gap for line in client.mirror] == [None] * 6
    assert report.sides["provider"].rnps.score == 100


def test_nine_and_ten_promote_seven_and_eight_are_passive_six_and_under_detract(on, engagement):
    from datetime import date

    with on(date(2026, 3, 10)):
        for nps in (10, 9, 8, 7, 6, 0):
            _respond(engagement, engagement.client, 1, nps=nps)
    march = engagement.current_period(date(2026, 3, 10))
    with on(date(2026, 4, 10)):
        report = selectors.survey_report(engagement, march)
    rnps = report.sides["client"].rnps
    assert (rnps.promoters, rnps.passives, rnps.detractors) == (2, 2, 2)
