import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD


@pytest.mark.django_db
def test_anonymous_user_is_sent_to_sign_in(client):
    response = client.get(reverse("portfolio"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_sign_in_shows_layout_with_organisation(client, provider_manager):
    response = client.post(
        reverse("login"), {"username": "provider-manager", "password": PASSWORD}, follow=True
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Contoso Services" in content
    assert 'href="#main"' in content


def test_sign_in_with_wrong_password_keeps_username_and_says_why(client, provider_manager):
    response = client.post(reverse("login"), {"username": "provider-manager", "password": "x"})
    assert response.status_code == 200
    assert 'value="provider-manager"' in response.content.decode()
    assert response.context["form"].errors


def test_sign_out_needs_post(client, provider_manager):
    client.force_login(provider_manager)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("portfolio")).status_code == 302


def test_password_reset_sends_email_with_link(client, provider_manager):
    provider_manager.email = "pm@example.com"
    provider_manager.save()
    response = client.post(reverse("password_reset"), {"email": "pm@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


def test_password_change_page_renders(client, provider_manager):
    client.force_login(provider_manager)
    assert client.get(reverse("password_change")).status_code == 200


def test_a_form_refused_for_csrf_gets_accords_page_with_nothing_inline(provider_manager):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "provider-manager", "password": PASSWORD})
    content = response.content.decode()
    assert response.status_code == 403
    assert "This form was not sent" in content and "Nothing was changed." in content
    # Django's own page has a <style> block, which the Content-Security-Policy blocks.
    assert "<style" not in content and "style=" not in content
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
