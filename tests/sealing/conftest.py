"""Sealing as the browser does it (WebCrypto): a per-report AES-256-GCM key, RSA-OAEP-wrapped."""

from __future__ import annotations

import base64
import datetime
import json
import os
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.cache import caches
from django.utils import timezone
from rest_framework.test import APIClient

from incidents import attachments
from tests.factories import IDLIB


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Sealer:
    """One report's sealing: crypto.subtle.generateKey AES-GCM 256, encrypt({name: "RSA-OAEP"})
    of the raw key with the SPKI public key (SHA-256), AES-GCM with a fresh 12-byte IV each."""

    def __init__(self, config: dict):
        self.key_id = config["keyId"]
        public_key = serialization.load_der_public_key(base64.b64decode(config["publicKey"]))
        self.aes_key = AESGCM.generate_key(bit_length=256)
        self.wrapped_key = b64(
            public_key.encrypt(
                self.aes_key,
                padding.OAEP(
                    mgf=padding.MGF1(algorithm=hashes.SHA256()),
                    algorithm=hashes.SHA256(),
                    label=None,
                ),
            )
        )

    def encrypt(self, data: bytes) -> tuple[str, bytes]:
        iv = os.urandom(12)
        return b64(iv), AESGCM(self.aes_key).encrypt(iv, data, None)

    def envelope(self, payload: dict) -> dict:
        iv, ciphertext = self.encrypt(json.dumps(payload).encode("utf-8"))
        return {
            "v": 1,
            "key_id": self.key_id,
            "wrapped_key": self.wrapped_key,
            "iv": iv,
            "ciphertext": b64(ciphertext),
        }

    def photo_fields(self, photo: bytes) -> tuple[dict, bytes]:
        iv, ciphertext = self.encrypt(photo)
        fields = {
            "sealed_key_id": self.key_id,
            "sealed_wrapped_key": self.wrapped_key,
            "sealed_iv": iv,
        }
        return fields, ciphertext


def report_payload(**overrides) -> dict:
    """A plain submission's fields, without client_uuid (the browser seals exactly this)."""
    body = {
        "occurred_at": (timezone.now() - datetime.timedelta(hours=3)).isoformat(),
        "location": {"type": "Point", "coordinates": list(IDLIB)},
        "place_name": "Idlib",
        "sub_event_type": "air-drone-strike",
        "explosions_count": 2,
        "description": "غارتان على المنطقة الصناعية الشرقية.",
    }
    body.update(overrides)
    return body


def client_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_sealed(client, client_uuid, envelope):
    return client.post(
        "/api/v1/incidents/",
        {"client_uuid": str(client_uuid), "sealed": envelope},
        format="json",
    )


@pytest.fixture
def keys_dir(settings, tmp_path):
    """A key folder of the test's own (files outlive the rolled-back rows)."""
    settings.SEALING_KEYS_DIR = tmp_path / "sealing-keys"
    return settings.SEALING_KEYS_DIR


@pytest.fixture
def sealing(keys_dir):
    """The report page's sealing config, for a key made for this test."""
    from sealing.keys import sealing_config, sealing_key_rotate

    sealing_key_rotate()
    return sealing_config()


@pytest.fixture
def new_uuid():
    return uuid.uuid4()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings.MEDIA_ROOT


@pytest.fixture
def fresh_upload_allowance(users):
    for user in users.values():
        caches["throttle"].delete(attachments._rate_key(user)[0])
