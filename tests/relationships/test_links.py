"""Links in invitations and proposals: in development they follow the address the request
reached (`make run ADDRESS=…`); in production they are SITE_URL. `make run` passes SITE_URL
from ADDRESS for links made outside a request."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from tests.dashboard.conftest import signed_in

ROOT = Path(__file__).resolve().parents[2]
SERVED_AT = "127.0.0.1:9000"


def link_in(message) -> str:
    return re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)


def dashboard_invitation(user, organization):
    signed_in(user).post(
        reverse("invitation-list", args=[organization.pk]),
        {"email": "new.person@example.com", "role": "viewer"},
        HTTP_HOST=SERVED_AT,
    )


def dashboard_proposal(user, organization):
    signed_in(user).post(
        reverse("engagement-propose"),
        {
            "own_organization": organization.pk,
            "own_side": "client",
            "name": "Data platform",
            "phase": "pilot",
            "start_date": "2026-03-01",
            "time_zone": "UTC",
            "scorecard_period": "month",
            "checkin_cadence_days": "7",
            "counterpart_name": "Newco Ltd",
            "counterpart_admin_email": "boss@newco.example",
        },
        HTTP_HOST=SERVED_AT,
    )


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def api_invitation(user, organization):
    body = {"organization": organization.pk, "email": "new.person@example.com"}
    api_client(user).post("/api/v1/invitations/", body, format="json", HTTP_HOST=SERVED_AT)


def api_proposal(user, organization):
    body = {
        "organization": organization.pk,
        "side": "client",
        "name": "Data platform",
        "start_date": "2026-03-01",
        "counterpart_name": "Newco Ltd",
        "counterpart_admin_email": "boss@newco.example",
    }
    api_client(user).post("/api/v1/engagements/", body, format="json", HTTP_HOST=SERVED_AT)


SENDERS = [dashboard_invitation, dashboard_proposal, api_invitation, api_proposal]


@pytest.mark.parametrize("send", SENDERS, ids=lambda send: send.__name__)
def test_in_development_links_follow_the_address_served(settings, client_admin, client_org, send):
    settings.DEBUG = True
    settings.SITE_URL = "http://127.0.0.1:8000"
    send(client_admin, client_org)
    assert len(mail.outbox) == 1
    assert link_in(mail.outbox[0]).startswith(f"http://{SERVED_AT}/invitations/")


@pytest.mark.parametrize("send", SENDERS, ids=lambda send: send.__name__)
def test_in_production_links_are_the_site_url(settings, client_admin, client_org, send):
    settings.DEBUG = False
    settings.SITE_URL = "https://accord.example.com/"
    settings.ALLOWED_HOSTS = [SERVED_AT.split(":")[0]]
    send(client_admin, client_org)
    assert link_in(mail.outbox[0]).startswith("https://accord.example.com/invitations/")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    "environment, site_url",
    [({}, f"http://{SERVED_AT}"), ({"SITE_URL": "https://dev.example"}, "https://dev.example")],
)
def test_make_run_serves_links_at_its_address(environment, site_url):
    env = {k: v for k, v in os.environ.items() if k != "SITE_URL"} | environment
    plan = subprocess.run(
        ["make", "-n", "run", f"ADDRESS={SERVED_AT}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # The virtualenv is the Makefile's own or the one CI passes down (VENV=.venv-ci).
    served = rf"^SITE_URL={re.escape(site_url)} \S+/bin/python manage.py runserver {SERVED_AT}$"
    assert re.search(served, plan, re.M)
