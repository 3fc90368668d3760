"""Content-Security-Policy in the browser: every page, no violation.

Headless Chromium visits every dashboard page the URL resolver knows (a manager's, and the
admins' pages as an admin, with the objects of the seeded world), the sign-in page and the
page of a form sent without its CSRF cookie, the API docs, every read of the API as the
browsable API shows it, and the Django admin (sign-in, index, every changelist, add, change
and history page). Each response must carry the policy, and the page must raise no
`securitypolicyviolation` event and log no CSP message on the console.
"""

from collections import defaultdict

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.factories import PASSWORD, UserFactory
from tests.reliability.tenancy import (
    API_TABLE,
    OPERATIONS,
    PAGE_KWARGS,
    PAGE_NAMES,
    PAGE_TABLE,
    api_url,
    expected_statuses,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

# Runs before any script of each page: keeps every violation the page reports.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} `
    + `(${event.sourceFile}:${event.lineNumber})`);
});
"""
# Violations are reported in tasks of their own: let the queued ones run first.
VIOLATIONS_SO_FAR = """async () => {
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return window.cspViolations;
}"""
# What Chromium asks for when it opens a page (the API answers it with HTML).
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CANVAS_HAS_INK = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) return true; }
  return false;
}"""


class Visitor:
    """One signed-in (or anonymous) browser context that notes what each page broke."""

    def __init__(self, browser, base_url: str, who: str):
        self.base_url, self.who = base_url, who
        self.context = browser.new_context()
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", self._console)
        self.problems: dict[str, list[str]] = defaultdict(list)
        self.visited: list[str] = []

    def _console(self, message):
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def sign_in(self, path: str, username: str, landing: str) -> None:
        self.visit(path)
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("[type=submit]")
        self.page.wait_for_url(self.base_url + landing)
        self.check(landing, self.page)

    def visit(self, path: str, ready: str | None = None, expect: int = 200):
        """Fetch the page (any type: its header is checked) and, if it is HTML, show it."""
        fetched = self.context.request.get(
            self.base_url + path, headers={"Accept": BROWSER_ACCEPT}, max_redirects=0
        )
        problems = self.problems[path]
        if fetched.status != expect:
            problems.append(f"answered {fetched.status}, not {expect}")
        if "content-security-policy" not in fetched.headers:
            problems.append("no Content-Security-Policy header")
        self.visited.append(path)
        if not fetched.headers.get("content-type", "").startswith("text/html"):
            return None
        self.console.clear()
        response = self.page.goto(self.base_url + path)
        if "content-security-policy" not in response.headers:
            problems.append("no Content-Security-Policy header in the browser")
        if ready:
            try:
                self.page.wait_for_selector(ready)
            except PlaywrightTimeoutError:
                problems.append(f"never showed {ready}")
                return None
        self.check(path, self.page)
        return self.page

    def check(self, path: str, page) -> None:
        self.problems[path].extend(page.evaluate(VIOLATIONS_SO_FAR))
        self.problems[path].extend(self.console)
        self.console.clear()

    def failures(self) -> dict[str, list[str]]:
        return {f"{self.who} {path}": found for path, found in self.problems.items() if found}


def dashboard_pages(world, persona: str) -> list[str]:
    """Every page (not a button) the persona may read, with the world's objects as args."""
    paths = []
    for name in PAGE_NAMES:
        about, rows = PAGE_TABLE[name]
        if expected_statuses(rows["GET"], name)[persona] == "200":
            paths.append(reverse(name, kwargs=PAGE_KWARGS[about](world)))
    return paths


def api_pages(world, persona: str) -> list[str]:
    """Every read of the API the persona may make, with the world's objects as ids."""
    return [
        api_url(world, path)
        for method, path in OPERATIONS
        if method == "GET" and expected_statuses(API_TABLE[f"GET {path}"], path)[persona] == "200"
    ]


def admin_pages(operator) -> list[tuple[str, int]]:
    """The admin's index, and for every registered model its changelist, add page (403
    where the admin forbids adding), and the change and history pages of one record."""
    request = RequestFactory().get("/admin/")
    request.user = operator
    pages = [(reverse("admin:index"), 200)]
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append((reverse(f"{prefix}_changelist"), 200))
        pages.append(
            (reverse(f"{prefix}_add"), 200 if model_admin.has_add_permission(request) else 403)
        )
        record = model._default_manager.order_by("pk").first()
        if record is not None:
            pages.append((reverse(f"{prefix}_change", args=[record.pk]), 200))
            pages.append((reverse(f"{prefix}_history", args=[record.pk]), 200))
    return pages


def test_every_page_carries_the_policy_and_breaks_none_of_it(browser, live_server, world):
    manager_pages = dashboard_pages(world, "client_manager")
    admin_only = [
        path for path in dashboard_pages(world, "client_admin") if path not in manager_pages
    ]
    assert reverse("engagement-detail", args=[world["engagement"].pk]) in manager_pages
    assert reverse("scoring-config-update", args=[world["engagement"].pk]) in admin_only

    manager = Visitor(browser, live_server.url, "manager")
    manager.sign_in(reverse("login"), world["client_manager"].username, reverse("portfolio"))
    for path in manager_pages:
        if path == reverse("api-docs"):
            # Swagger UI draws the operations from the schema; one is opened too.
            page = manager.visit(path, ready=".opblock-summary")
            if page:
                page.locator(".opblock-summary").first.click()
                page.wait_for_selector(".opblock-body")
                manager.check(path, page)
        elif path == reverse("engagement-detail", args=[world["engagement"].pk]):
            # The chart's script (a file, fed through json_script) still draws it.
            page = manager.visit(path, ready="#score-chart")
            if page and not page.locator("#score-chart").evaluate(CANVAS_HAS_INK):
                manager.problems[path].append("the score chart is not drawn")
        else:
            manager.visit(path)
    for path in api_pages(world, "client_manager"):
        manager.visit(path)

    client_admin = Visitor(browser, live_server.url, "admin")
    client_admin.sign_in(reverse("login"), world["client_admin"].username, reverse("portfolio"))
    for path in admin_only:
        client_admin.visit(path)

    # A form sent without the CSRF cookie: Django's failure page, in Accord's layout.
    anonymous = Visitor(browser, live_server.url, "anonymous")
    login = reverse("login")
    anonymous.visit(login)
    anonymous.context.clear_cookies()
    anonymous.page.fill("#id_username", world["client_manager"].username)
    anonymous.page.fill("#id_password", PASSWORD)
    with anonymous.page.expect_navigation() as sent:  # until the answer has loaded
        anonymous.page.click("[type=submit]")
    if sent.value.status != 403 or "content-security-policy" not in sent.value.headers:
        anonymous.problems["CSRF failure"].append(f"answered {sent.value.status} without a policy")
    anonymous.check("CSRF failure", anonymous.page)

    operator = UserFactory(username="operator", is_staff=True, is_superuser=True)
    staff = Visitor(browser, live_server.url, "staff")
    staff.sign_in(reverse("admin:login"), operator.username, reverse("admin:index"))
    for path, status in admin_pages(operator):
        staff.visit(path, expect=status)

    assert len(manager.visited) > 60 and len(staff.visited) > 40  # the discovery found pages
    problems = {
        **manager.failures(),
        **client_admin.failures(),
        **anonymous.failures(),
        **staff.failures(),
    }
    assert problems == {}, "\n".join(f"{path}: {found}" for path, found in problems.items())
