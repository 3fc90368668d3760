"""Key contacts changed with their history kept; engagements archived after a confirmation."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from relationships.models import Engagement, KeyContact
from tests.factories import PASSWORD, KeyContactFactory

pytestmark = pytest.mark.django_db


def detail(engagement):
    return reverse("engagement-detail", args=[engagement.pk])


def change_url(engagement):
    return reverse("key-contact-change", args=[engagement.pk])


def archive_url(engagement):
    return reverse("engagement-archive", args=[engagement.pk])


NEW_STEWARD = {
    "side": "provider",
    "role": "relationship_steward",
    "name": "Robin New",
    "email": "robin@example.com",
    "start_date": "2026-02-01",
}


@pytest.fixture
def steward(engagement):
    return KeyContactFactory(
        engagement=engagement, side="provider", name="Sam Old", start_date=date(2026, 1, 1)
    )


# ---------------------------------------------------------------- key contacts
def test_changing_a_contact_ends_the_previous_one_and_both_are_listed(
    as_user, engagement, steward, provider_manager
):
    response = as_user(provider_manager).post(change_url(engagement), NEW_STEWARD)
    assert response.status_code == 302
    assert response["Location"].endswith("#contacts")
    steward.refresh_from_db()
    assert steward.end_date == date(2026, 1, 31)
    new = KeyContact.objects.get(name="Robin New")
    assert (new.side, new.role, new.start_date) == (
        "provider",
        "relationship_steward",
        date(2026, 2, 1),
    )
    html = as_user(provider_manager).get(detail(engagement)).content.decode()
    assert "Earlier contacts (1)" in html
    assert "Sam Old, Relationship steward, 1 Jan 2026 to 31 Jan 2026" in html
    assert "Robin New" in html


def test_change_link_preselects_side_and_role(as_user, engagement, steward, client_manager):
    html = as_user(client_manager).get(detail(engagement)).content.decode()
    link = f"{change_url(engagement)}?side=provider&amp;role=relationship_steward"
    assert link in html
    form = (
        as_user(client_manager)
        .get(change_url(engagement), {"side": "provider", "role": "relationship_steward"})
        .context["form"]
    )
    assert form["side"].value() == "provider"
    assert form["role"].value() == "relationship_steward"


def test_start_not_after_the_current_contact_is_a_field_error(
    as_user, engagement, steward, client_manager
):
    response = as_user(client_manager).post(
        change_url(engagement), {**NEW_STEWARD, "start_date": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "start later" in " ".join(response.context["form"].errors["start_date"])
    assert "Robin New" in response.content.decode()
    steward.refresh_from_db()
    assert steward.end_date is None
    assert KeyContact.objects.count() == 1


def test_bad_email_and_unknown_role_are_field_errors(as_user, engagement, client_manager):
    response = as_user(client_manager).post(
        change_url(engagement), {**NEW_STEWARD, "email": "nope", "role": "boss"}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"email", "role"}
    assert not KeyContact.objects.exists()


def test_viewer_may_not_change_contacts(as_user, engagement, client_viewer):
    assert as_user(client_viewer).get(change_url(engagement)).status_code == 403
    assert as_user(client_viewer).post(change_url(engagement), NEW_STEWARD).status_code == 403
    assert not KeyContact.objects.exists()


def test_outsider_gets_404_on_contacts(as_user, engagement, outsider):
    assert as_user(outsider).post(change_url(engagement), NEW_STEWARD).status_code == 404


# ---------------------------------------------------------------- archive
def test_admin_confirms_then_archives(as_user, engagement, provider_admin, client_viewer):
    client = as_user(provider_admin)
    confirm = client.get(archive_url(engagement))
    assert confirm.status_code == 200
    assert "nothing is deleted" in confirm.content.decode()
    assert Engagement.objects.get(pk=engagement.pk).status == "active"
    response = client.post(archive_url(engagement), follow=True)
    assert "Engagement archived." in response.content.decode()
    engagement.refresh_from_db()
    assert engagement.status == "archived"
    assert engagement.archived_by == provider_admin
    html = as_user(client_viewer).get(detail(engagement)).content.decode()
    assert 'id="archived-notice"' in html
    assert "by provider-admin: read-only" in html


def test_archived_engagement_is_read_only(as_user, engagement, client_admin, steward):
    engagement.status = "archived"
    engagement.save()
    client = as_user(client_admin)
    html = client.get(detail(engagement)).content.decode()
    for control in ("Recompute now", "Archive…", "Log a check-in", "Change the scoring"):
        assert control not in html
    assert reverse("key-contact-change", args=[engagement.pk]) not in html
    assert client.post(change_url(engagement), NEW_STEWARD).status_code == 403
    assert client.post(reverse("checkin-create", args=[engagement.pk]), {}).status_code == 403
    assert KeyContact.objects.count() == 1


def test_archiving_twice_says_so(as_user, engagement, client_admin):
    client = as_user(client_admin)
    client.post(archive_url(engagement))
    first = Engagement.objects.get(pk=engagement.pk).archived_at
    response = client.post(archive_url(engagement), follow=True)
    assert "already archived" in response.content.decode()
    assert Engagement.objects.get(pk=engagement.pk).archived_at == first


@pytest.mark.parametrize("persona", ["client_manager", "provider_viewer"])
def test_only_admins_archive(as_user, engagement, persona, request):
    client = as_user(request.getfixturevalue(persona))
    assert "Archive…" not in client.get(detail(engagement)).content.decode()
    assert client.get(archive_url(engagement)).status_code == 403
    assert client.post(archive_url(engagement)).status_code == 403
    assert Engagement.objects.get(pk=engagement.pk).status == "active"


def test_outsider_gets_404_on_archive(as_user, engagement, outsider):
    assert as_user(outsider).post(archive_url(engagement)).status_code == 404


@pytest.mark.parametrize("name", ["engagement-archive", "key-contact-change"])
def test_csrf_is_enforced(engagement, client_admin, name):
    browser = Client(enforce_csrf_checks=True)
    browser.login(username=client_admin.username, password=PASSWORD)
    assert browser.post(reverse(name, args=[engagement.pk]), NEW_STEWARD).status_code == 403
    assert Engagement.objects.get(pk=engagement.pk).status == "active"
    assert not KeyContact.objects.exists()
