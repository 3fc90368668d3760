import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.factories import EngagementFactory, SLAFactory
from tests.scorecards.test_concurrency import worker  # noqa: F401 — a real celery worker


@pytest.fixture
def sla(engagement):
    return SLAFactory(engagement=engagement, owner_side="provider", name="P1 response")


@pytest.fixture
def slas(engagement):
    return [SLAFactory(engagement=engagement, name=f"SLA {n}") for n in range(10)]


@pytest.fixture
def outsider_sla(outsider_org, client_org):
    """An SLA of an engagement the provider organisation is no party to."""
    other = EngagementFactory(client=client_org, provider=outsider_org, name="Elsewhere")
    return SLAFactory(engagement=other, name="Not yours")


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


class Receiver:
    """A webhook endpoint on 127.0.0.1 answering with the statuses it is given, in order."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.stall = threading.Event()  # set: answer nothing, as a hung receiver would
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                if receiver.stall.is_set():
                    receiver.released.wait(timeout=10)
                    return
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
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
