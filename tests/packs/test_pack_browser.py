"""The review pack as a person meets it, in headless Chromium on a live server: the period
page's button opens the print view, which does not scroll sideways at 390 or 1280 px and
prints without the site's header; page 1 of the PDF is rendered with pdftoppm.

Screenshots go to $SCREENSHOT_DIR (default /tmp/pack-screens) for a person to look at.
"""

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.dashboard.test_phone_width import DOCUMENT_WIDTH, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or "/tmp/pack-screens")


def test_the_period_pages_button_opens_a_print_view_that_fits_both_widths(
    browser, live_server, signed_march, engagement, client_viewer
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    period = f"/engagements/{engagement.pk}/periods/2026-03-01/"
    for width in (1280, 390):
        page = sign_in(browser, live_server, client_viewer, width)
        page.goto(live_server.url + period)
        page.click("a:has-text('Review pack'):not(:has-text('PDF'))")
        page.wait_for_url(f"{live_server.url}{period}pack/")
        assert page.evaluate(DOCUMENT_WIDTH) <= width
        assert page.locator("h1").inner_text() == "Service desk: March 2026"
        assert page.locator(".pack-chart polyline").count() == 3
        assert signed_march.inputs_digest in page.locator(".pack-footer").inner_text()
        page.screenshot(path=str(SCREENSHOTS / f"print-view-{width}.png"), full_page=True)
        page.screenshot(path=str(SCREENSHOTS / f"print-view-{width}-top.png"))
        page.locator("#pack-dimensions-heading").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"print-view-{width}-dimensions.png"))
        # Printed, the site's header and the page's buttons are left out.
        page.emulate_media(media="print")
        assert not page.locator(".site-header").is_visible()
        assert not page.locator(".pack-actions").is_visible()
        page.close()


def test_page_one_of_the_pdf_renders(signed_march, engagement, client, client_viewer, tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    client.force_login(client_viewer)
    response = client.get(f"/engagements/{engagement.pk}/periods/2026-03-01/pack.pdf")
    pdf = tmp_path / "pack.pdf"
    pdf.write_bytes(b"".join(response.streaming_content))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(SCREENSHOTS / "pdf")],
        check=True,
    )
    [image] = SCREENSHOTS.glob("pdf-1.png")
    assert image.stat().st_size > 10_000  # a drawn page, not a blank one


def test_the_portfolio_page_follows_a_jobs_progress(browser, live_server, client_org, client_admin):
    from django.core.files.base import ContentFile

    from packs.models import PortfolioPack

    job = PortfolioPack.objects.create(
        organization=client_org,
        quarter_start=date(2026, 1, 1),
        requested_by=client_admin,
        status="running",
        chunks_total=4,
        engagements_total=80,
    )
    page = sign_in(browser, live_server, client_admin, 390)
    page.goto(f"{live_server.url}/organizations/{client_org.pk}/packs/")
    assert page.evaluate(DOCUMENT_WIDTH) <= 390
    bar = page.locator(f"#job-{job.pk} progress")
    assert bar.get_attribute("value") == "0"

    PortfolioPack.objects.filter(pk=job.pk).update(chunks_done=3, packs_made=60)
    # Polled from the API (no reload): the bar follows the chunks done.
    expect(bar).to_have_attribute("value", "75", timeout=15_000)
    page.screenshot(path=str(SCREENSHOTS / "portfolio-packs-390.png"), full_page=True)

    job.refresh_from_db()
    job.file.save("packs.zip", ContentFile(b"PK\x05\x06" + bytes(18)), save=False)
    job.status, job.chunks_done = "succeeded", 4
    job.save()
    page.wait_for_selector(f"#job-{job.pk} a:has-text('Download the zip')", timeout=15_000)
    page.close()
