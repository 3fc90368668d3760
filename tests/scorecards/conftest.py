"""An engagement with data for every dimension on both sides, for March 2026; a real Celery
worker; a webhook receiver."""

import itertools
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from feedback.models import PulseResponse
from relationships.models import GoalProgress
from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    EngagementFactory,
    IssueFactory,
    MeasurementFactory,
    SharedGoalFactory,
    SLAFactory,
)

ROOT = Path(__file__).resolve().parents[2]
User = get_user_model()
_respondents = itertools.count()

MARCH = date(2026, 3, 1)
# After March: as_of is the period's last day.
APRIL_10 = date(2026, 4, 10)


def populate(engagement, *, provider_met: bool = True):
    """Data for every dimension on both sides in March 2026; returns the engagement."""
    for side, met in (("client", True), ("provider", provider_met)):
        sla = SLAFactory(engagement=engagement, owner_side=side, target=Decimal("90"))
        lower = SLAFactory(
            engagement=engagement,
            owner_side=side,
            direction="lower_is_better",
            target=Decimal("60"),
            unit="min",
        )
        for day in (1, 8, 15):
            MeasurementFactory(
                sla=sla, period_start=date(2026, 3, day), value=Decimal("95" if met else "80")
            )
            MeasurementFactory(
                sla=lower, period_start=date(2026, 3, day), value=Decimal("45" if met else "75")
            )
        IssueFactory(
            engagement=engagement,
            responsible_side=side,
            raised_by_side=side,
            detected_at=datetime(2026, 3, 3, 9, tzinfo=UTC),
            raised_at=datetime(2026, 3, 3, 10, tzinfo=UTC),
        )
        ActionItemFactory(
            engagement=engagement,
            owner_side=side,
            due_date=date(2026, 3, 20),
            completed_at=datetime(2026, 3, 19, 12, tzinfo=UTC),
        )
        for n in range(3):
            # No password: hashing one per respondent would dominate the test time.
            respondent = User.objects.create(username=f"respondent-{next(_respondents)}")
            PulseResponse.objects.create(
                engagement=engagement,
                respondent=respondent,
                side=side,
                period_kind="month",
                period_start=MARCH,
                **dict.fromkeys(
                    (
                        "hear_often",
                        "deliver_promises",
                        "raise_problems_early",
                        "follow_through",
                        "same_goals",
                        "trust_overall",
                    ),
                    4 if side == "client" else 2 + n % 2,
                ),
            )
    for day in (2, 9, 16, 23, 30):
        CheckInFactory(engagement=engagement, occurred_at=datetime(2026, 3, day, 10, tzinfo=UTC))
    goal = SharedGoalFactory(
        engagement=engagement, start_date=date(2026, 1, 1), due_date=date(2026, 12, 31)
    )
    GoalProgress.objects.create(goal=goal, date=date(2026, 3, 15), percent=30)
    return engagement


@pytest.fixture
def rich_engagement(engagement):
    return populate(engagement)


def make_engagements(count: int) -> list:
    return [populate(EngagementFactory()) for _ in range(count)]


@pytest.fixture
def worker(require_postgres, require_redis):
    """A real `celery worker` process on the test database and the test broker."""
    from accord.celery import app

    app.control.purge()
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "accord", "worker", "--pool=prefork", "-c", "2"]
        + ["--without-mingle", "--without-gossip", "-l", "warning"],
        cwd=ROOT,
        env=env,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


HOOKS = "/api/v1/webhooks/"
WEBHOOK_SECRET = "s3cret-shared-with-the-receiver"


@pytest.fixture
def as_user(client):
    """The test client, signed in as the given user: as_user(client_admin).get(...)."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def subscribe(as_user, client_admin):
    def create(url, format="json", events=("scorecard.computed", "alert.raised"), **extra):
        data = {
            "organization": client_admin.memberships.get().organization_id,
            "url": url,
            "secret": WEBHOOK_SECRET,
            "events": list(events),
            "format": format,
            **extra,
        }
        return as_user(client_admin).post(HOOKS, data, content_type="application/json")

    return create


class Receiver:
    """A webhook endpoint on 127.0.0.1 answering with the statuses it is given, in order.

    `headers` go with every answer (a Location, say); with `tls` it serves https.
    """

    def __init__(self, tls=None):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.headers: dict[str, str] = {}
        self.stall = threading.Event()  # set: answer nothing, as a hung receiver would
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if receiver.stall.is_set():
                    receiver.released.wait(timeout=10)
                    return
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    receiver = Receiver()
    yield receiver
    receiver.close()
