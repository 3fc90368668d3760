"""What the dashboard's browser tests share: signing in at a width, where screenshots go,
and how a page's width is read."""

import os
from pathlib import Path

from django.urls import reverse

from tests.factories import PASSWORD

# The document's width in CSS pixels: wider than the viewport means a sideways scroll.
DOCUMENT_WIDTH = "document.documentElement.scrollWidth"


def screenshots(folder: str) -> Path:
    """Where a test file's screenshots go: $SCREENSHOT_DIR, or tests/screenshots/<folder>."""
    return Path(
        os.environ.get("SCREENSHOT_DIR")
        or Path(__file__).resolve().parent.parent / "screenshots" / folder
    )


def shooter(folder: str, prefix: str = ""):
    """A test file's shot(page, name, selector=None): the whole page, or the element the
    selector names, as tests/screenshots/<folder>/<prefix><name>.png (or $SCREENSHOT_DIR)."""
    directory = screenshots(folder)

    def shot(page, name: str, selector: str | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        path = str(directory / f"{prefix}{name}.png")
        if selector:
            page.locator(selector).screenshot(path=path)
        else:
            page.screenshot(path=path, full_page=True)

    return shot


def sign_in(browser, live_server, user, width=1280):
    """A new page of `browser`, `width` pixels wide, signed in as `user` on the portfolio."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + reverse("portfolio"))
    return page
