"""Sign-in throttling against password guessing.

Failed sign-ins are counted per username and per client address in the cache;
past the limit the backend refuses even a correct password until the window
passes. Works for every form that authenticates with a request (dashboard,
admin); the test client's login() passes no request and is not throttled.
"""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver


def _keys(request, username: str | None) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "unknown")
    return [f"login-failures:user:{(username or '').lower()}", f"login-failures:addr:{address}"]


def is_throttled(request, username: str | None) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    return any((cache.get(key) or 0) >= limit for key in _keys(request, username))


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None and is_throttled(request, username):
            # PermissionDenied stops authenticate() from trying other backends.
            raise PermissionDenied("Too many failed sign-ins; try again later.")
        return super().authenticate(request, username=username, password=password, **kwargs)


LOCKED_MESSAGE = (
    "Too many failed sign-ins. Signing in is locked for up to %(minutes)s minutes; try again later."
)


class LockedSignInMessage:
    """For sign-in forms: a locked sign-in says so, instead of "incorrect".

    The lock is keyed by the username as typed, existing or not, so the message tells
    nothing about which accounts exist.
    """

    def clean(self):
        if self.request is not None and is_throttled(
            self.request, self.cleaned_data.get("username")
        ):
            raise forms.ValidationError(
                LOCKED_MESSAGE,
                code="throttled",
                params={"minutes": -(-settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)},
            )
        return super().clean()


class SignInForm(LockedSignInMessage, AuthenticationForm):
    """The dashboard's sign-in form."""


class AdminSignInForm(LockedSignInMessage, AdminAuthenticationForm):
    """The admin site's sign-in form (staff only)."""


@receiver(user_login_failed)
def count_failure(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    for key in _keys(request, credentials.get("username")):
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
