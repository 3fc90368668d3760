"""A real SMTP server on 127.0.0.1 (aiosmtpd), the real worker of tests/scorecards, and
helpers to read what arrived."""

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from tests.scorecards.conftest import rich_engagement, worker  # noqa: F401 (fixtures)


class Inbox:
    """What the SMTP server accepted; `fail_next` answers the next DATA with a code."""

    def __init__(self):
        self.messages = []
        self.fail_next: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        if self.fail_next:
            return self.fail_next.pop(0)
        self.messages.append(
            (sorted(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"

    def to(self, address: str) -> list:
        return [message for recipients, message in self.messages if address in recipients]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings, monkeypatch):
    """An SMTP server on 127.0.0.1 that this process and a worker started after it send to."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    # Read by the worker process's settings.
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(port))
    monkeypatch.setenv("EMAIL_USE_TLS", "false")
    yield inbox
    controller.stop()


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()
