"""The site-wide part of the reporters' app (static/js/app.js): on every page, for those who
report, the service worker is registered and the device's outbox drained and explained."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.roles import Role, role_of
from fieldapp import shell

REPORTING_ROLES = (Role.REPORTER, Role.ANALYST, Role.ADMIN)


def outbox_messages() -> dict[str, str]:
    """What the outbox tells the reporter, on any page (counts are written as figures, so the
    sentences need no plural forms)."""
    return {
        "sentCount": _("Reports sent from this device: %(n)s (at %(times)s)."),
        "photoRefused": _("A photo was refused: %(reason)s"),
        "waitingOffline": _(
            "Waiting on this device: %(n)s. There is no connection; they will be sent when it "
            "returns."
        ),
        "waitingUnreachable": _(
            "Waiting on this device: %(n)s. The server cannot be reached; they will be sent when "
            "it can."
        ),
        "waitingServer": _(
            "Waiting on this device: %(n)s. The server had a problem; they will be sent "
            "automatically."
        ),
        "waitingSignIn": _(
            "Waiting on this device: %(n)s. Your session has ended: sign in again and they will "
            "be sent."
        ),
        "waitingOther": _("Waiting on this device: %(n)s."),
        "refusedCount": _("Refused by the server and kept on this device: %(n)s."),
        "seeMyReports": _("See why in My reports."),
        "signIn": _("Sign in"),
    }


def field_app(request) -> dict:
    user = getattr(request, "user", None)
    reporting = role_of(user) in REPORTING_ROLES
    config = {
        "user": user.get_username() if reporting else None,
        "lang": getattr(request, "LANGUAGE_CODE", "en"),
    }
    if reporting:
        config.update(
            serviceWorkerUrl=reverse("service-worker"),
            outbox=shell.outbox_urls(),
            loginUrl=reverse("login"),
            myReportsUrl=reverse("my-reports"),
            messages=outbox_messages(),
        )
    return {"field_app_config": config, "field_app_reporting": reporting}
