"""Sign-in lockout (django-axes): repeated failures lock the username and the address."""

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, username: str, password: str, url: str = "/accounts/login/"):
    return client.post(url, {"username": username, "password": password})


def test_five_failures_lock_the_account_even_with_the_right_password(users, settings):
    settings.AXES_FAILURE_LIMIT = 5
    client = Client()
    for _ in range(4):
        assert _sign_in(client, "analyst", "wrong").status_code == 200  # the form again
    locked = _sign_in(client, "analyst", "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    # The right password does not get through while locked, from another address either.
    elsewhere = Client(REMOTE_ADDR="10.9.8.7")
    assert _sign_in(elsewhere, "analyst", "pw-analyst").status_code == 429
    # The admin's sign-in is the same door.
    assert _sign_in(elsewhere, "analyst", "pw-analyst", "/admin/login/").status_code == 429


def test_the_address_is_locked_for_every_username(users, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client(REMOTE_ADDR="10.1.1.1")
    for name in ("ghost-1", "ghost-2", "ghost-3"):
        _sign_in(client, name, "guess")
    assert _sign_in(client, "partner", "pw-partner").status_code == 429
    # Another address can still sign the partner in.
    assert _sign_in(Client(REMOTE_ADDR="10.1.1.2"), "partner", "pw-partner").status_code == 302


def test_a_success_resets_the_count_and_an_admin_can_unlock(users, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(2):
        _sign_in(client, "partner", "wrong")
    assert _sign_in(client, "partner", "pw-partner").status_code == 302
    client = Client()
    for _ in range(2):
        _sign_in(client, "partner", "wrong")
    assert _sign_in(client, "partner", "wrong").status_code == 429
    call_command("axes_reset_username", "partner")
    call_command("axes_reset_ip", "127.0.0.1")
    assert _sign_in(Client(), "partner", "pw-partner").status_code == 302


def test_the_locked_page_is_translated(users, settings):
    settings.AXES_FAILURE_LIMIT = 1
    client = Client(HTTP_ACCEPT_LANGUAGE="ar")
    client.cookies["django_language"] = "ar"
    response = _sign_in(client, "analyst", "wrong")
    assert response.status_code == 429
    assert 'dir="rtl"' in response.content.decode()


def test_signing_in_as_yourself_does_not_clear_the_failures_against_another_account(
    users, settings
):
    """The attack: four wrong passwords for the victim, one good sign-in as yourself, repeat."""
    settings.AXES_FAILURE_LIMIT = 5
    attacker = Client(REMOTE_ADDR="10.20.30.40")
    answers = []
    for _ in range(3):
        for _ in range(4):
            answers.append(_sign_in(attacker, "analyst", "guess").status_code)
        attacker.post("/accounts/logout/")
        _sign_in(attacker, "partner", "pw-partner")
        attacker.post("/accounts/logout/")
    # The fifth guess at the victim's password is refused, and every one after it.
    assert answers[:4] == [200, 200, 200, 200]
    assert set(answers[4:]) == {429}
    # The victim's own right password is refused too while the lock lasts, from anywhere.
    assert _sign_in(Client(REMOTE_ADDR="10.9.9.9"), "analyst", "pw-analyst").status_code == 429


def test_a_success_clears_only_the_signed_in_usernames_failures(users, settings):
    settings.AXES_FAILURE_LIMIT = 5
    from axes.models import AccessAttempt

    client = Client(REMOTE_ADDR="10.20.30.41")
    for _ in range(2):
        _sign_in(client, "analyst", "guess")
        _sign_in(client, "partner", "wrong")
    assert _sign_in(client, "partner", "pw-partner").status_code == 302
    left = dict(AccessAttempt.objects.values_list("username", "failures_since_start"))
    assert left == {"analyst": 2}
