"""Optional two-factor sign-in (TOTP) for analysts and admins."""

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_throttle(settings):
    """django-otp slows guessing down after a wrong code (1 s, doubling); these tests try a wrong
    code and then the right one at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _code(device: TOTPDevice, drift: int = 0) -> str:
    """The code of the current time step, or of the next one (`drift=1`, inside the device's
    tolerance): a code once accepted is never accepted again (replay protection)."""
    value = totp(device.bin_key, step=device.step, digits=device.digits, drift=drift)
    return f"{value:0{device.digits}d}"


def _switch_on(user) -> TOTPDevice:
    client = Client()
    client.force_login(user)
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post("/accounts/two-factor/", {"code": "000000"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    client.post("/accounts/two-factor/", {"code": _code(device)})
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_without_two_factor_a_password_is_enough(users):
    response = Client().post("/accounts/login/", {"username": "analyst", "password": "pw-analyst"})
    assert response.status_code == 302


def test_with_two_factor_the_code_is_required(users, settings):
    settings.AXES_FAILURE_LIMIT = 10
    device = _switch_on(users["analyst"])
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.TWO_FACTOR, object_ids=[users["analyst"].pk]
    ).exists()
    password_only = Client().post(
        "/accounts/login/", {"username": "analyst", "password": "pw-analyst"}
    )
    assert password_only.status_code == 200
    assert "Enter the code from your authenticator app." in password_only.content.decode()
    wrong = Client().post(
        "/accounts/login/",
        {"username": "analyst", "password": "pw-analyst", "otp_token": "123456"},
    )
    assert wrong.status_code == 200
    client = Client()
    right = client.post(
        "/accounts/login/",
        {"username": "analyst", "password": "pw-analyst", "otp_token": _code(device, drift=1)},
    )
    assert right.status_code == 302, right.context["form"].errors
    assert client.get("/alerts/").status_code == 200


def test_the_admin_sign_in_asks_for_the_code_too(users, admin_user):
    device = _switch_on(admin_user)
    without = Client().post("/admin/login/", {"username": "admin", "password": "password"})
    assert without.status_code == 200
    client = Client()
    with_code = client.post(
        "/admin/login/",
        {"username": "admin", "password": "password", "otp_token": _code(device, drift=1)},
    )
    assert with_code.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_wrong_codes_count_towards_the_lockout(users, settings):
    settings.AXES_FAILURE_LIMIT = 3
    _switch_on(users["analyst"])
    client = Client()
    for _ in range(3):
        client.post(
            "/accounts/login/",
            {"username": "analyst", "password": "pw-analyst", "otp_token": "000000"},
        )
    locked = client.post("/accounts/login/", {"username": "analyst", "password": "pw-analyst"})
    assert locked.status_code == 429


def test_switching_off_needs_a_current_code(users):
    device = _switch_on(users["analyst"])
    client = Client()
    client.force_login(users["analyst"])
    client.post("/accounts/two-factor/", {"action": "disable", "code": "000000"})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    client.post("/accounts/two-factor/", {"action": "disable", "code": _code(device, drift=1)})
    assert not TOTPDevice.objects.filter(user=users["analyst"]).exists()


def test_reporters_and_partners_have_no_two_factor_page(users):
    for who in ("reporter_a", "partner"):
        client = Client()
        client.force_login(users[who])
        assert client.get("/accounts/two-factor/").status_code == 403
