from datetime import UTC, datetime

import pytest

from tests.factories import KeyContactFactory

# A fixed moment for records the tests create in the past.
JAN_5 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def provider_contact(engagement, provider_manager):
    return KeyContactFactory(engagement=engagement, side="provider", user=provider_manager)


@pytest.fixture
def answers():
    return {
        "hear_often": 4,
        "deliver_promises": 3,
        "raise_problems_early": 5,
        "follow_through": 4,
        "same_goals": 2,
        "trust_overall": 3,
    }
