"""Sign-in (reporters land on the report form) and two-factor set-up: analysts and admins scan a
QR code and confirm one code."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.audit import no_exact_locations
from accounts.forms import SignInForm
from accounts.models import AuditEvent
from accounts.roles import EXACT_LOCATION_ROLES, Role, role_of
from accounts.services import audit_request

DEVICE_NAME = "authenticator"


class SignInView(LoginView):
    """The site's sign-in. Without a `next` page, reporters go to the report form (what they
    came for, and the installed app's start page); everyone else to the map."""

    authentication_form = SignInForm
    exact_locations = False

    def get_default_redirect_url(self):
        if role_of(self.request.user) == Role.REPORTER:
            return resolve_url("report")
        return super().get_default_redirect_url()


def _qr_svg_data_uri(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=5, border=2)


@login_required
@no_exact_locations
def two_factor(request):
    """Switch two-factor sign-in on (scan, confirm a code) or off (confirm a code)."""
    if role_of(request.user) not in EXACT_LOCATION_ROLES:
        raise PermissionDenied
    confirmed = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if request.method == "POST":
        code = request.POST.get("code", "").strip()
        with transaction.atomic():
            if confirmed is None:
                device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
                if device is not None and device.verify_token(code):
                    device.confirmed = True
                    device.save(update_fields=["confirmed"])
                    otp_login(request, device)
                    audit_request(
                        request,
                        action=AuditEvent.Action.TWO_FACTOR,
                        object_type="user",
                        object_ids=[request.user.pk],
                        detail={"enabled": True},
                    )
                    messages.success(request, _("Two-factor sign-in is on."))
                    return redirect("two-factor")
            elif request.POST.get("action") == "disable" and confirmed.verify_token(code):
                TOTPDevice.objects.filter(user=request.user).delete()
                audit_request(
                    request,
                    action=AuditEvent.Action.TWO_FACTOR,
                    object_type="user",
                    object_ids=[request.user.pk],
                    detail={"enabled": False},
                )
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("two-factor")
        messages.error(request, _("That authenticator code is not right. Try the current one."))
        return redirect("two-factor")

    context = {"enabled": confirmed is not None}
    if confirmed is None:
        device, _created = TOTPDevice.objects.get_or_create(
            user=request.user, confirmed=False, defaults={"name": DEVICE_NAME}
        )
        context.update(
            qr=_qr_svg_data_uri(device.config_url),
            secret=_base32(device.bin_key),
        )
    return render(request, "registration/two_factor.html", context)


def _base32(key: bytes) -> str:
    from base64 import b32encode

    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
