"""Sign-in throttling: django-axes counts failed sign-ins; this module says which count locks.

A failure is counted for the username as typed (existing or not) and the client's address
(core.signin.client_address). A sign-in as a username from an address is refused, even
with the right password, while within the window

    that address has failed as that username at least once, and
    that username has failed LOGIN_FAILURE_LIMIT times, from all addresses together.

So guessing one account from one address stops after LOGIN_FAILURE_LIMIT tries, guessing
it from many addresses earns one try per further address, and nobody's failures lock a
sign-in from an address where that username has not failed: made-up usernames lock
nobody, and an attacker elsewhere cannot lock the account's owner out.
docs/OPERATIONS.md states the rule for operators.
"""

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesBackend
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend

from core.signin import LOCKED_MESSAGE, is_locked_out, locked_message_params

USERNAME_STORED_LENGTH = AccessAttempt._meta.get_field("username").max_length


class SignInBackend(AxesBackend):
    """Django's ModelBackend behind django-axes' lock.

    A locked sign-in raises PermissionDenied, which stops authenticate() and counts as
    one more failure. Without a request (the test client's login(), a shell) there is no
    client to count, and the password alone decides.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None:
            super().authenticate(request, username=username, password=password, **kwargs)
        return ModelBackend.authenticate(
            self, request, username=username, password=password, **kwargs
        )


def counted_username(request, credentials=None):
    """AXES_USERNAME_CALLABLE: the username as typed, cut to the length axes stores.

    No account has a longer username (User allows 150 characters), so nothing is lost.
    """
    username = (credentials or {}).get("username")
    return None if username is None else username[:USERNAME_STORED_LENGTH]


def lockout_parameters(request, credentials=None):
    """AXES_LOCKOUT_PARAMETERS: which of axes' counts applies to this sign-in.

    The username's count from every address applies only where that username has
    already failed within the window; elsewhere the count for this username from this
    address (none) applies.
    """
    failed_here = AccessAttempt.objects.filter(
        username=get_client_username(request, credentials),
        ip_address=request.axes_ip_address,
        attempt_time__gte=get_cool_off_threshold(request),
    ).exists()
    return ["username"] if failed_here else [["username", "ip_address"]]


def locked_response(request, response, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the refused page (its form says sign-in is locked), as 429."""
    response.status_code = 429
    return response


def locked_error() -> forms.ValidationError:
    # The same for every username, existing or not: it tells nothing about accounts.
    return forms.ValidationError(LOCKED_MESSAGE, code="throttled", params=locked_message_params())


class LockedSignInMessage:
    """For sign-in forms: a locked sign-in says so, instead of "incorrect"."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if is_locked_out(self.request):
                raise locked_error() from None
            raise


class SignInForm(LockedSignInMessage, auth_forms.AuthenticationForm):
    """The dashboard's sign-in form."""


class AdminSignInForm(LockedSignInMessage, AdminAuthenticationForm):
    """The admin site's sign-in form (staff only)."""


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """The old password is checked as a sign-in of the signed-in user.

    Wrong old passwords count towards the same lock as failed sign-ins, and while it
    holds even the right one is refused: a borrowed session cannot guess its way to
    a new password.
    """

    def __init__(self, user, *args, request, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        signed_in = authenticate(
            self.request, username=self.user.get_username(), password=old_password
        )
        if signed_in is None:
            if is_locked_out(self.request):
                raise locked_error()
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}
