"""The sign-in lockout's storage: django-axes' database handler with one change.

Axes resets, on a successful sign-in, every failure that matches the request by any lockout
parameter: with `["username", "ip_address"]` that includes other usernames' failures from the same
address. Anyone with an account could then guess a victim's password without end (four wrong
guesses, one good sign-in as themselves, repeat). Here a success clears only the failures recorded
for the username that signed in; the address's count keeps the others' failures until they expire.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.http import HttpRequest


class OwnFailuresResetHandler(AxesDatabaseHandler):
    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
