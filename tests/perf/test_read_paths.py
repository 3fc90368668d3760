"""Reads over every visible engagement stay off the scorecard history.

The portfolio's summary, filters, sorting and rows and the engagement list join
each engagement's small latest scorecard row (scorecards.latest). Only the
sparklines and the provisional "so far" figures read scorecards, and only for the page's
engagements. Timings belong
to benchmarks/; these tests pin the shape that keeps them flat.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tests.dashboard.conftest import add_engagements

pytestmark = pytest.mark.django_db

SCORECARDS = '"scorecards_scorecard"'


def _reading_scorecards(get) -> list[str]:
    """The SQL of the queries that `get` sends and that read the scorecards table."""
    with CaptureQueriesContext(connection) as captured:
        assert get().status_code == 200
    return [query["sql"] for query in captured if SCORECARDS in query["sql"]]


@pytest.mark.parametrize("params", [{}, {"sort": "-overall", "band": "watch"}])
def test_portfolio_reads_scorecards_only_for_the_sparklines_of_its_page(
    client, client_manager, client_org, params
):
    add_engagements(client_org, 30)
    client.force_login(client_manager)
    reading = _reading_scorecards(lambda: client.get(reverse("portfolio"), params))
    assert len(reading) == 2  # the sparklines, and the provisional scorecards
    for sql in reading:
        assert f'{SCORECARDS}."engagement_id" IN (' in sql


def test_engagement_list_reads_no_scorecards(client_manager, client_org):
    add_engagements(client_org, 30)
    api = APIClient()
    api.force_authenticate(client_manager)
    assert _reading_scorecards(lambda: api.get("/api/v1/engagements/")) == []
