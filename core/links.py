"""The address that links sent to people (invitations, proposals) start with.

In production it is SITE_URL, the public address. In development (DEBUG) a link made while
answering a request starts with the address that request reached, so `make run
ADDRESS=127.0.0.1:9000` (or `runserver` on any port) sends links that work; ALLOWED_HOSTS
has vetted the host by then. Links made without a request (webhook messages, commands) use
SITE_URL, which `make run` sets from ADDRESS.
"""

from django.conf import settings


def site_url(request=None) -> str:
    """Scheme, host and port, without a trailing slash."""
    if settings.DEBUG and request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return settings.SITE_URL.rstrip("/")
