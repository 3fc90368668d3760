"""The write controls on the engagement page, and query counts that must not grow."""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from feedback.forms import engagement_forms
from relationships.services import invitation_create
from tests.dashboard.conftest import signed_in
from tests.factories import (
    KeyContactFactory,
    MembershipFactory,
    SharedGoalFactory,
    SLAFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def detail(engagement):
    return reverse("engagement-detail", args=[engagement.pk])


def record_part(engagement, url_name, name) -> str:
    return f"{reverse(url_name, args=[engagement.pk])}?form={name}"


def test_manager_sees_the_forms_on_the_engagement_page(as_user, engagement, client_manager, goal):
    client = as_user(client_manager)
    page = client.get(detail(engagement)).content.decode()
    assert "<summary>Log a check-in</summary>" in page
    assert reverse("checkin-create", args=[engagement.pk]) in page
    assert reverse("goal-progress-create", args=[goal.pk]) in page
    assert reverse("pulse-survey", args=[engagement.pk]) in page
    # The page carries the sections, not their forms: each is loaded when opened.
    part = record_part(engagement, "checkin-create", "checkin")
    assert f'data-part="{escape(part)}"' in page
    assert 'id="checkin_occurred_at"' not in page
    form = client.get(part)
    assert form.status_code == 200
    html = form.content.decode()
    assert html.lstrip().startswith("<form") and "<html" not in html
    assert 'id="checkin_occurred_at"' in html and ">Log check-in</button>" in html
    assert f'action="{reverse("checkin-create", args=[engagement.pk])}"' in html


def test_a_record_form_alone_is_for_those_who_may_write(
    as_user, engagement, client_viewer, client_manager
):
    part = record_part(engagement, "issue-create", "issue")
    assert as_user(client_viewer).get(part).status_code == 403
    # A name that is not one is ignored: the whole page, with Django's own ids.
    whole = as_user(client_manager).get(record_part(engagement, "issue-create", "Bad<name"))
    assert whole.status_code == 200 and "<html" in whole.content.decode()
    assert 'id="id_title"' in whole.content.decode()
    # A page of its own make is always whole.
    plan = as_user(client_manager).get(record_part(engagement, "checkin-plan", "plan"))
    assert "<html" in plan.content.decode()


def test_viewer_sees_no_write_controls_but_the_survey(as_user, engagement, client_viewer):
    page = as_user(client_viewer).get(detail(engagement)).content.decode()
    assert "<summary>Log a check-in</summary>" not in page
    assert reverse("checkin-create", args=[engagement.pk]) not in page
    assert reverse("pulse-survey", args=[engagement.pk]) in page


def test_counterpart_admin_sees_accept_on_a_proposal(
    as_user, engagement, client_manager, provider_admin
):
    engagement.status = "proposed"
    engagement.proposed_by_side = "client"
    engagement.save()
    accept = reverse("engagement-accept", args=[engagement.pk])
    assert accept in as_user(provider_admin).get(detail(engagement)).content.decode()
    assert accept not in as_user(client_manager).get(detail(engagement)).content.decode()


def _render_forms_queries(user, engagement) -> list[int]:
    """Queries of the engagement page's record sections and of each form loaded alone."""
    access = engagement.access_for(user)
    client = signed_in(user)
    with CaptureQueriesContext(connection) as queries:
        context = engagement_forms(engagement, access)
        render_to_string("feedback/_engagement_forms.html", {"engagement": engagement, **context})
    counts = [len(queries)]
    for section in context["write_forms"]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(section["part"]).status_code == 200
        counts.append(len(queries))
    return counts


def _grow(engagement, count, start):
    for index in range(start, start + count):
        user = UserFactory(username=f"person-{index}")
        MembershipFactory(user=user, organization=engagement.provider, role="viewer")
        SLAFactory(engagement=engagement, name=f"SLA {index}")
        SharedGoalFactory(engagement=engagement, title=f"Goal {index}")
        KeyContactFactory(engagement=engagement, name=f"Contact {index}")


def test_engagement_forms_queries_do_not_grow_with_choices(engagement, client_manager):
    _grow(engagement, 1, 0)
    few = _render_forms_queries(client_manager, engagement)
    _grow(engagement, 10, 1)
    assert _render_forms_queries(client_manager, engagement) == few


def test_invitation_list_queries_do_not_grow(
    as_user, client_org, client_admin, django_assert_max_num_queries
):
    client = as_user(client_admin)
    url = reverse("invitation-list", args=[client_org.pk])
    invitation_create(
        organization=client_org, email="first@example.com", role="viewer", invited_by=client_admin
    )
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for index in range(10):
        invitation_create(
            organization=client_org,
            email=f"person{index}@example.com",
            role="viewer",
            invited_by=client_admin,
        )
    with django_assert_max_num_queries(len(one)):
        client.get(url)
