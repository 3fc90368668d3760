"""What the sign-in lock needs from a request: the client's address and the lock's message.

Shared by the sign-in forms (accord/auth.py), django-axes (which counts the failures)
and the API's Basic authentication and rate limits (core/api/plumbing.py).
"""

import ipaddress

from django.conf import settings

LOCKED_MESSAGE = (
    "Too many failed sign-ins. Signing in is locked until %(minutes)s minutes have passed "
    "without a failed attempt; try again later."
)


def client_address(request) -> str | None:
    """The client's IP address, as the configured number of trusted proxies reported it.

    With TRUSTED_PROXY_COUNT = 0 it is REMOTE_ADDR. With n > 0 it is the n-th
    X-Forwarded-For entry from the right: the one the outermost trusted proxy appended.
    Entries further left came from the client and are ignored, so a client cannot pick
    its own address. An entry that is not an IP address falls back to REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        entries = [entry.strip() for entry in forwarded.split(",")]
        address = _ip_address(entries[-min(proxies, len(entries))])
        if address is not None:
            return address
    return _ip_address(remote)


def _ip_address(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text.partition("%")[0])  # no IPv6 zone index
    except ValueError:
        return None
    # ::ffff:192.0.2.1 and 192.0.2.1 are one client.
    return str(getattr(address, "ipv4_mapped", None) or address)


def is_locked_out(request) -> bool:
    """Whether django-axes refused this request's sign-in, or locked it with this failure."""
    return bool(getattr(request, "axes_locked_out", False))


def locked_message_params() -> dict:
    return {"minutes": -(-settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)}
