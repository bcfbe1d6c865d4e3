"""Sign-in forms: password, then an authenticator code for users who switched two-factor on.

Two-factor sign-in (TOTP, django-otp) is optional, for analysts and admins. A wrong code counts
as a failed sign-in for the lockout (django-axes), as a wrong password does.
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


class _TwoFactorMixin(OTPAuthenticationFormMixin):
    otp_error_messages = dict(
        OTPAuthenticationFormMixin.otp_error_messages,
        token_required=_("Enter the code from your authenticator app."),
        invalid_token=_("That authenticator code is not right. Try the current one."),
    )

    def _add_otp_fields(self) -> None:
        # One TOTP device per user: no device choice, no challenge.
        self.fields["otp_device"] = forms.CharField(required=False, widget=forms.HiddenInput)
        self.fields["otp_challenge"] = forms.CharField(required=False, widget=forms.HiddenInput)
        self.fields["otp_token"] = forms.CharField(
            required=False,
            label=_("Authenticator code (only if two-factor sign-in is on)"),
            widget=forms.TextInput(
                attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 8}
            ),
        )

    def _chosen_device(self, user):
        # The user's own authenticator, never a device named in the form.
        return TOTPDevice.objects.filter(user=user, confirmed=True).first()

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
                credentials={"username": user.get_username() if user else ""},
                request=self.request,
            )
            raise
        return cleaned


class SignInForm(_TwoFactorMixin, AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_otp_fields()


class AdminSignInForm(_TwoFactorMixin, AdminAuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_otp_fields()
