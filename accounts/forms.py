"""Sign-in forms: password, then an authenticator code for users who switched two-factor on.

Two-factor sign-in (TOTP, django-otp) is optional, for analysts and admins. A wrong code counts
as a failed sign-in for the lockout (django-axes), as a wrong password does, and gets the same
answer: a message that told "enter the code" or "wrong code" would tell a guesser that the
password was right, and the code is then the only factor left to guess.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

# The one answer to every failed sign-in: wrong username or password, no code or a wrong one, and
# django-otp's own refusals (throttled, no device, a challenge asked for).
INVALID_SIGN_IN = _(
    "The username, password or authenticator code is not right. The code is needed only if "
    "two-factor sign-in is on for the account."
)


class _CodeInput(forms.TextInput):
    """A code is good once: the page never shows the last one back."""

    def format_value(self, value):
        return None


class _TwoFactorMixin(OTPAuthenticationFormMixin):
    error_messages = {**AuthenticationForm.error_messages, "invalid_login": INVALID_SIGN_IN}

    def _add_otp_fields(self) -> None:
        # One TOTP device per user: no device choice, no challenge.
        self.fields["otp_device"] = forms.CharField(required=False, widget=forms.HiddenInput)
        self.fields["otp_challenge"] = forms.CharField(required=False, widget=forms.HiddenInput)
        self.fields["otp_token"] = forms.CharField(
            required=False,
            label=_("Authenticator code (only if two-factor sign-in is on)"),
            widget=_CodeInput(
                attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 8}
            ),
        )

    def _chosen_device(self, user):
        # The user's own authenticator, never a device named in the form.
        return TOTPDevice.objects.filter(user=user, confirmed=True).first()

    def _update_form(self, user):
        # django-otp would fill in the device choices and render the password back into the page
        # once the password is right: a difference a guesser could read.
        pass

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is None or not user_has_device(user, confirmed=True):
            return cleaned  # two-factor is optional: only users who switched it on
        try:
            self.clean_otp(user)
        except ValidationError:
            user_login_failed.send(
                sender=type(self),
                credentials={"username": user.get_username()},
                request=self.request,
            )
            self.user_cache = None
            raise self.get_invalid_login_error() from None
        return cleaned


class SignInForm(_TwoFactorMixin, AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_otp_fields()


class AdminSignInForm(_TwoFactorMixin, AdminAuthenticationForm):
    # Django's admin names a staff account in its own message; the same answer is kept here.
    error_messages = {**AdminAuthenticationForm.error_messages, "invalid_login": INVALID_SIGN_IN}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_otp_fields()
