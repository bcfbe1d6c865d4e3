"""Optional two-factor sign-in (TOTP) for analysts and admins."""

import re

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db

SAME_ANSWER = (
    "The username, password or authenticator code is not right. The code is needed only if "
    "two-factor sign-in is on for the account."
)


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
    assert SAME_ANSWER in password_only.content.decode()
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


def _page_without_tokens(response) -> str:
    """The page as the user reads it, less the CSRF token that differs on every answer."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


SIGN_IN_FAILURES = {
    "wrong password": {"password": "wrong"},
    "wrong password with a code": {"password": "wrong", "otp_token": "123456"},
    "right password without a code": {"password": "pw-analyst"},
    "right password with a wrong code": {"password": "pw-analyst", "otp_token": "000000"},
    "right password asking for a challenge": {"password": "pw-analyst", "otp_challenge": "1"},
}


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_a_wrong_password_and_a_right_password_without_the_right_code_get_the_same_answer(
    users, settings, url
):
    settings.AXES_FAILURE_LIMIT = 20
    users["analyst"].is_staff = True  # so that the admin's sign-in would let the analyst in
    users["analyst"].save()
    _switch_on(users["analyst"])

    answers = {
        case: Client().post(url, {"username": "analyst", **fields})
        for case, fields in SIGN_IN_FAILURES.items()
    }

    for case, response in answers.items():
        assert response.status_code == 200, case
        assert SAME_ANSWER in response.content.decode(), case
        assert "pw-analyst" not in response.content.decode(), case  # never rendered back
    pages = {_page_without_tokens(response) for response in answers.values()}
    assert len(pages) == 1


def test_a_wrong_password_without_two_factor_gets_the_same_answer(users):
    response = Client().post("/accounts/login/", {"username": "partner", "password": "wrong"})
    assert response.status_code == 200
    assert re.findall(r'<p class="error" role="alert">(.*?)</p>', response.content.decode()) == [
        SAME_ANSWER + " "
    ]


def test_the_same_answer_is_translated(users):
    _switch_on(users["analyst"])
    client = Client()
    client.cookies["django_language"] = "ar"
    wrong = client.post("/accounts/login/", {"username": "analyst", "password": "wrong"})
    no_code = client.post("/accounts/login/", {"username": "analyst", "password": "pw-analyst"})
    assert _page_without_tokens(wrong) == _page_without_tokens(no_code)
    assert "اسم المستخدم أو كلمة المرور أو رمز المصادقة غير صحيح" in wrong.content.decode()


def test_each_failure_counts_once_towards_the_lockout(users, settings):
    settings.AXES_FAILURE_LIMIT = 4
    _switch_on(users["analyst"])
    client = Client()
    for fields in (
        {"password": "wrong"},
        {"password": "pw-analyst"},
        {"password": "pw-analyst", "otp_token": "000000"},
    ):
        assert client.post("/accounts/login/", {"username": "analyst", **fields}).status_code == 200
    attempt = AccessAttempt.objects.get(username="analyst")
    assert attempt.failures_since_start == 3
    client.post("/accounts/login/", {"username": "analyst", "password": "pw-analyst"})
    locked = client.post("/accounts/login/", {"username": "analyst", "password": "wrong"})
    assert locked.status_code == 429
