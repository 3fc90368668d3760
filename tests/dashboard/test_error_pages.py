"""403, 404 and 500 answer in Accord's layout, say why, and say where to go."""

import re

import pytest
from django.test import Client
from django.urls import path, reverse

from accord.urls import *  # noqa: F403 (the real URL table and error handlers, plus one that fails)
from accord.urls import urlpatterns as accord_urlpatterns
from tests.dashboard.conftest import signed_in


def broken_page(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken_page), *accord_urlpatterns]

STYLESHEET = "css/accord.css"


def test_scoring_configuration_refused_to_a_manager_says_why_and_where_to_go(
    client_manager, engagement
):
    response = signed_in(client_manager).get(reverse("scoring-config-update", args=[engagement.pk]))
    html = response.content.decode()
    assert response.status_code == 403
    assert STYLESHEET in html
    assert "Only an admin of either party can change the scoring." in html
    assert f'href="{engagement.get_absolute_url()}"' in html
    assert f'href="{reverse("portfolio")}"' in html
    assert "Nothing was changed" not in html  # a page was read, not a form sent


def test_invitations_refused_to_a_manager_say_why(client_manager, client_org):
    response = signed_in(client_manager).post(
        reverse("invitation-list", args=[client_org.pk]), {"email": "a@b.test", "role": "viewer"}
    )
    html = response.content.decode()
    assert response.status_code == 403
    assert STYLESHEET in html
    assert f"Only an admin of {client_org.name} can do this." in html
    assert "Nothing was changed." in html
    assert not client_org.invitations.exists()


def test_archived_engagement_refuses_records_saying_so(client_manager, engagement):
    engagement.status = "archived"
    engagement.save()
    response = signed_in(client_manager).post(reverse("checkin-create", args=[engagement.pk]))
    assert response.status_code == 403
    assert "This engagement is archived; records cannot be added." in response.content.decode()


def test_not_found_is_styled_and_leads_back(client_manager, outsider, engagement):
    for user in (client_manager, outsider):
        response = signed_in(user).get(reverse("engagement-detail", args=[engagement.pk + 1000]))
        html = response.content.decode()
        assert response.status_code == 404
        assert STYLESHEET in html
        assert f'href="{reverse("portfolio")}"' in html
    # Someone else's engagement reads exactly like one that does not exist.
    browser = signed_in(outsider)
    hidden = browser.get(reverse("engagement-detail", args=[engagement.pk]))
    missing = browser.get(reverse("engagement-detail", args=[engagement.pk + 1000]))
    assert hidden.status_code == 404
    assert without_csrf_token(hidden) == without_csrf_token(missing)


def without_csrf_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_not_found_signed_out_offers_sign_in(db):
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    assert f'href="{reverse("login")}"' in response.content.decode()


@pytest.mark.urls(__name__)
def test_server_error_is_styled_without_database_or_user():
    # No db fixture: any database access while answering fails the test.
    response = Client(raise_request_exception=False).get("/broken/")
    html = response.content.decode()
    assert response.status_code == 500
    assert STYLESHEET in html
    assert "Something went wrong on our side" in html
    assert "a bug" not in html
