"""Every read of the API also renders as a page of DRF's browsable API (what a browser
that asks for text/html gets), for a persona the tenancy matrix lets read it."""

import pytest
from django.test import Client

from tests.reliability.conftest import PERSONAS
from tests.reliability.tenancy import API_TABLE, OPERATIONS, api_url, expected_statuses

pytestmark = pytest.mark.django_db

READS = [path for method, path in OPERATIONS if method == "GET"]
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("path", READS)
def test_every_read_renders_in_the_browsable_api(world, path):
    statuses = expected_statuses(API_TABLE[f"GET {path}"], path)
    reader = next(persona for persona in PERSONAS if statuses[persona] == "200")
    client = Client()
    client.force_login(world[reader])
    response = client.get(api_url(world, path), HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 200, response.content[-2000:]
    # A download (CSV, a pack's PDF, a portfolio's zip) whatever the browser asks.
    if not path.endswith(("/export/", "/pack/", "/download/")):
        assert response["Content-Type"].startswith("text/html")
    # Its PATCH form shows (the change itself is checked when sent).
    if path.endswith("/scoring-config/"):
        assert b'name="_content"' in response.content
