"""The run-status page polls runs of many engagements for the members of the engagements they
covered, without their figures."""

import pytest
from django.urls import reverse

from scorecards.models import ScorecardRun
from scorecards.runs import create_runs
from tests.factories import EngagementFactory
from tests.scorecards.conftest import MARCH

pytestmark = pytest.mark.django_db


def test_run_status_of_a_run_of_many_for_members_of_what_it_covered(
    client, client_viewer, provider_manager, outsider, engagement, outsider_org
):
    foreign = EngagementFactory(client=outsider_org, name="Foreign")
    mine, both = (
        create_runs({("month", MARCH): ids}, trigger=trigger, dispatch=False)[0]
        for ids, trigger in (
            ([engagement.pk], ScorecardRun.Trigger.COMMAND),
            ([engagement.pk, foreign.pk], ScorecardRun.Trigger.PERIODIC),
        )
    )
    ScorecardRun.objects.filter(pk__in=[mine.pk, both.pk]).update(
        status="succeeded", scorecards_written=2, alerts_raised=1
    )
    for user, visible in ((client_viewer, [mine, both]), (outsider, [both])):
        client.force_login(user)
        for run in (mine, both):
            response = client.get(reverse("run-status", args=[run.pk]))
            if run not in visible:
                assert response.status_code == 404
                continue
            status = response.json()
            assert (status["status"], status["finished"]) == ("succeeded", True)
            assert status["scorecards_written"] is None and status["error"] == ""
