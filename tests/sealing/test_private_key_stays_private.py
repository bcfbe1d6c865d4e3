"""The private key is in its file only: never in the database, a page, the config or the schema."""

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.test import APIClient

from sealing.keys import sealing_config
from sealing.models import SealingKey

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


@pytest.fixture
def secrets_of(keys_dir, sealing):
    """Every form the private key could leak in: PEM lines, DER in base64, the private exponent."""
    pem = (keys_dir / f"{sealing['keyId']}.pem").read_bytes()
    private_key = serialization.load_pem_private_key(pem, password=None)
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    numbers = private_key.private_numbers()
    body_lines = [line for line in pem.decode().splitlines() if not line.startswith("-----")]
    return [
        "PRIVATE KEY",
        # Past the version, modulus and public exponent (public, in the SPKI too): the secrets.
        *body_lines[10:-1],
        base64.b64encode(der).decode()[800:864],
        str(numbers.d)[:40],
        format(numbers.d, "x")[:40],
    ]


def assert_clean(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text


def test_the_report_page_and_its_config_hold_the_public_key_only(users, sealing, secrets_of):
    client = Client()
    client.force_login(users["reporter_a"])

    page = client.get("/report/")

    assert page.status_code == 200
    assert sealing["keyId"] in page.text
    assert_clean(page.text, secrets_of)
    assert_clean(str(sealing_config()), secrets_of)


def test_the_api_schema_holds_no_private_key(users, sealing, secrets_of):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")

    assert schema.status_code == 200
    assert_clean(schema.content.decode(), secrets_of)
    submission = schema.json()["components"]["schemas"]["IncidentSubmissionRequest"]
    assert len(submission["oneOf"]) == 2  # plain or sealed


def test_the_database_holds_no_private_key(sealing, secrets_of):
    for key in SealingKey.objects.all():
        values = [str(getattr(key, field.attname)) for field in SealingKey._meta.fields]
        values.append(base64.b64encode(bytes(key.public_key)).decode())
        assert_clean(" ".join(values), secrets_of)


def test_the_default_key_folder_is_not_served():
    served = [Path(django_settings.MEDIA_ROOT), Path(django_settings.STATIC_ROOT)]
    served += [Path(path) for path in django_settings.STATICFILES_DIRS]
    keys = Path(django_settings.SEALING_KEYS_DIR).resolve()
    for folder in served:
        assert not keys.is_relative_to(folder.resolve())
