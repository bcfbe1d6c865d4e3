"""Sealing keys: what phones encrypt queued reports for (PRODUCT.md "Do no harm" 7).

A phone seals each report with a fresh AES-256-GCM key and wraps that key with the server's
active RSA-OAEP public key (SHA-256), as Enketo and ODK Central do; a phone searched at a
checkpoint holds nothing it can open. Public keys are rows (SealingKey). Private keys are PKCS8 PEM
files, `<key_id>.pem` in settings.SEALING_KEYS_DIR (mode 0600, the directory 0700), never in the
database and never served: a database dump or a replica cannot open a report. The key files are
backed up on their own (copy the directory to offline storage after each rotation; restore it
before the database): README, "Encrypted reports: the sealing keys".

Rotation keeps old keys for decryption: a phone may have sealed reports with the previous key and
send them weeks later, so a key's private file is deleted only SEALING_KEY_KEEP_DAYS after it was
superseded.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from sealing.models import QuarantinedSubmission, SealingKey, UnsealReason

logger = logging.getLogger(__name__)

# What the browser is told: RSA-OAEP with SHA-256 wraps the key, AES-256-GCM seals the content
# (the names of JWE, RFC 7518).
ALGORITHM = "RSA-OAEP-256+A256GCM"
KEY_SIZE = 3072
PUBLIC_EXPONENT = 65537
AES_KEY_BYTES = 32
IV_BYTES = 12
TAG_BYTES = 16
ENVELOPE_VERSION = 1
# Caps on an envelope's members (base64 characters). A report's plaintext is at most ~120 kB
# (10,000-character description and 20 sources of 500, every character escaped in JSON).
MAX_KEY_ID_CHARS = 64
MAX_WRAPPED_KEY_CHARS = 1024  # 684 for a 4096-bit key; ours wrap to 512
MAX_IV_CHARS = 64
MAX_CIPHERTEXT_CHARS = 256 * 1024
ENVELOPE_MEMBERS = ("v", "key_id", "wrapped_key", "iv", "ciphertext")
LAST_USED_RESOLUTION = datetime.timedelta(hours=1)

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_OAEP = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)
# Serializes key creation across processes (two web workers creating a key on demand).
_LOCK_ID = 0x5EA1_0001
# Loaded private keys by file, with the file's identity: a replaced or deleted file is reread.
_loaded: dict[str, tuple[tuple[int, int, int], rsa.RSAPrivateKey]] = {}


class UnsealError(Exception):
    """A sealed envelope that could not be opened. `reason` is an UnsealReason; for a malformed
    one `member` names the envelope member and `problem` says what is wrong with it."""

    def __init__(self, reason: UnsealReason, *, member: str = "", problem: str = ""):
        super().__init__(f"{reason}: {member} {problem}".strip())
        self.reason = UnsealReason(reason)
        self.member = member
        self.problem = problem


class SealingUnavailable(ImproperlyConfigured):
    """No active sealing key: the report page cannot be served (manage.py sealing_keys ensure)."""


class KeyRetireRefused(Exception):
    """Retiring or deleting this key now could make queued reports unreadable."""


# --- key files -------------------------------------------------------------------------------


def keys_dir() -> Path:
    return Path(settings.SEALING_KEYS_DIR)


def private_key_path(key_id: str) -> Path:
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError(f"not a key id: {key_id!r}")
    return keys_dir() / f"{key_id}.pem"


def has_private_key(key_id: str) -> bool:
    return private_key_path(key_id).is_file()


def _ensure_keys_dir() -> Path:
    directory = keys_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(directory.stat().st_mode) != 0o700:
        directory.chmod(0o700)
    return directory


def _write_private_key(key_id: str, private_key: rsa.RSAPrivateKey) -> None:
    """Write the PEM with mode 0600 from its first byte, then move it in place (never half)."""
    _ensure_keys_dir()
    path = private_key_path(key_id)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    partial = path.with_suffix(".pem.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o600)  # whatever the umask
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _public_der(private_key: rsa.RSAPrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _private_key(key: SealingKey) -> rsa.RSAPrivateKey:
    """The key's private half from its file, checked against the public key in the database."""
    path = private_key_path(key.key_id)
    try:
        info = path.stat()
        identity = (info.st_ino, info.st_mtime_ns, info.st_size)
        cached = _loaded.get(str(path))
        if cached and cached[0] == identity:
            return cached[1]
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise UnsealError(UnsealReason.KEY_MISSING) from None
    except (OSError, ValueError, TypeError) as exc:
        logger.error("sealing key %s: private key file unreadable: %r", key.key_id, exc)
        raise UnsealError(UnsealReason.KEY_MISSING) from None
    if not isinstance(private_key, rsa.RSAPrivateKey) or _public_der(private_key) != bytes(
        key.public_key
    ):
        logger.error("sealing key %s: the private key file belongs to another key", key.key_id)
        raise UnsealError(UnsealReason.KEY_MISSING)
    _loaded[str(path)] = (identity, private_key)
    return private_key


# --- key lifecycle (services) -----------------------------------------------------------------


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])


def _create_active(now: datetime.datetime) -> SealingKey:
    """Inside the lock: a new key pair becomes the active key; the previous one stays."""
    private_key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_SIZE)
    key_id = secrets.token_hex(8)
    # The file first: a row without its private key would hand phones a key nobody can open.
    _write_private_key(key_id, private_key)
    SealingKey.objects.active().update(active=False, superseded_at=now)
    return SealingKey.objects.create(
        key_id=key_id, public_key=_public_der(private_key), created_at=now, active=True
    )


def sealing_key_rotate(*, now: datetime.datetime | None = None) -> SealingKey:
    """Make a new active key. Older keys keep decrypting what phones sealed with them."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock()
        key = _create_active(now)
    logger.info("sealing key %s created and active", key.key_id)
    return key


def sealing_key_ensure() -> tuple[SealingKey, bool]:
    """The active key, and whether it was created now: one is made when none is active or the
    active key's private file is missing (a phone must never be given a key nobody can open)."""
    key = SealingKey.objects.active().first()
    if key is not None and has_private_key(key.key_id):
        return key, False
    with transaction.atomic():
        _lock()
        key = SealingKey.objects.active().first()
        if key is not None and has_private_key(key.key_id):
            return key, False
        if key is not None:
            logger.error(
                "sealing key %s: private key file missing; a new key replaces it (restore the "
                "file from the backup to open what was sealed with it)",
                key.key_id,
            )
        key = _create_active(timezone.now())
    logger.info("sealing key %s created and active", key.key_id)
    return key, True


def sealing_key_retire(
    *,
    key_id: str,
    delete_private: bool = False,
    force: bool = False,
    now: datetime.datetime | None = None,
) -> SealingKey:
    """Mark a superseded key retired and, with delete_private, delete its private file.

    A phone may hold reports sealed with a key until long after it was superseded (it was
    offline, or the reporter waited to reach a safe place), so the file is deleted only once
    SEALING_KEY_KEEP_DAYS have passed since, and while no quarantined submission still needs it;
    `force` overrides both. The active key is never retired: rotate first.
    """
    now = now or timezone.now()
    with transaction.atomic():
        key = SealingKey.objects.select_for_update().filter(key_id=key_id).first()
        if key is None:
            raise KeyRetireRefused(f"No sealing key {key_id!r}.")
        if key.active:
            raise KeyRetireRefused(
                f"{key_id} is the active key: rotate first (sealing_keys rotate), then retire it "
                f"once no phone can still hold reports sealed with it."
            )
        if delete_private and not force:
            keep_until = (key.superseded_at or now) + datetime.timedelta(
                days=settings.SEALING_KEY_KEEP_DAYS
            )
            if key.superseded_at is None or now < keep_until:
                raise KeyRetireRefused(
                    f"{key_id} was superseded less than {settings.SEALING_KEY_KEEP_DAYS} days ago "
                    f"(SEALING_KEY_KEEP_DAYS): phones may still hold reports sealed with it. "
                    f"Keep its private key until {keep_until:%Y-%m-%d}, or pass --force."
                )
            waiting = QuarantinedSubmission.objects.unresolved().filter(key_id=key_id).count()
            if waiting:
                raise KeyRetireRefused(
                    f"{waiting} quarantined submission(s) sealed with {key_id} are not stored "
                    f"yet (admin: quarantined sealed submissions); try them again first, or "
                    f"pass --force."
                )
        if key.retired_at is None:
            key.retired_at = now
            key.save(update_fields=["retired_at"])
        if delete_private:
            private_key_path(key_id).unlink(missing_ok=True)
            _loaded.pop(str(private_key_path(key_id)), None)
            logger.warning("sealing key %s: private key deleted", key_id)
    return key


# --- what the browser gets --------------------------------------------------------------------


def sealing_config() -> dict[str, str]:
    """The active public key for the report page: the browser imports `publicKey` with
    crypto.subtle.importKey("spki", ..., {name: "RSA-OAEP", hash: "SHA-256"})."""
    if settings.SEALING_KEYS_CREATE_ON_DEMAND:
        key, _created = sealing_key_ensure()
    else:
        key = SealingKey.objects.active().first()
        if key is None:
            raise SealingUnavailable(
                "No active sealing key: run `manage.py sealing_keys ensure` (scripts/bootstrap.sh "
                "does) with SEALING_KEYS_DIR pointing at the key directory."
            )
        if not has_private_key(key.key_id):
            # Reports sealed now are quarantined until the file is restored (or a new key made).
            logger.error("sealing key %s: private key file missing in %s", key.key_id, keys_dir())
    return {
        "keyId": key.key_id,
        "publicKey": base64.b64encode(bytes(key.public_key)).decode("ascii"),
        "algorithm": ALGORITHM,
    }


# --- opening envelopes ------------------------------------------------------------------------


def _b64(member: str, value: Any, *, max_chars: int) -> bytes:
    if not isinstance(value, str) or len(value) > max_chars:
        raise UnsealError(UnsealReason.MALFORMED, member=member, problem="type")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise UnsealError(UnsealReason.MALFORMED, member=member, problem="base64") from None


def _touch(key: SealingKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_RESOLUTION:
        SealingKey.objects.filter(pk=key.pk).update(last_used_at=now)


def unseal_bytes(key_id: str, wrapped_key_b64: str, iv_b64: str, ciphertext: bytes) -> bytes:
    """Decrypt AES-256-GCM `ciphertext` (with its 16-byte tag, no additional data) under the AES
    key that `wrapped_key_b64` holds, RSA-OAEP-wrapped for the sealing key `key_id`."""
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise UnsealError(UnsealReason.MALFORMED, member="key_id", problem="type")
    wrapped_key = _b64("wrapped_key", wrapped_key_b64, max_chars=MAX_WRAPPED_KEY_CHARS)
    iv = _b64("iv", iv_b64, max_chars=MAX_IV_CHARS)
    if len(iv) != IV_BYTES:
        raise UnsealError(UnsealReason.MALFORMED, member="iv", problem="type")
    if len(ciphertext) < TAG_BYTES:
        raise UnsealError(UnsealReason.MALFORMED, member="ciphertext", problem="type")
    key = SealingKey.objects.filter(key_id=key_id).first()
    if key is None:
        raise UnsealError(UnsealReason.UNKNOWN_KEY)
    private_key = _private_key(key)
    try:
        aes_key = private_key.decrypt(wrapped_key, _OAEP)
    except ValueError:
        raise UnsealError(UnsealReason.WRAPPED_KEY) from None
    if len(aes_key) != AES_KEY_BYTES:
        raise UnsealError(UnsealReason.WRAPPED_KEY)
    try:
        plaintext = AESGCM(aes_key).decrypt(iv, ciphertext, None)
    except InvalidTag:
        raise UnsealError(UnsealReason.TAG) from None
    _touch(key)
    return plaintext


def envelope_ciphertext(envelope: Any) -> bytes:
    """A report envelope's ciphertext, once its shape is right (else UnsealError MALFORMED):
    checked before any key is used."""
    if not isinstance(envelope, dict):
        raise UnsealError(UnsealReason.MALFORMED, problem="object")
    for member in ENVELOPE_MEMBERS:
        if member not in envelope:
            raise UnsealError(UnsealReason.MALFORMED, member=member, problem="missing")
    extra = sorted(set(envelope) - set(ENVELOPE_MEMBERS))
    if extra:
        raise UnsealError(UnsealReason.MALFORMED, member=str(extra[0])[:40], problem="unknown")
    version = envelope["v"]
    if type(version) is not int or version != ENVELOPE_VERSION:
        raise UnsealError(UnsealReason.MALFORMED, member="v", problem="version")
    key_id = envelope["key_id"]
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise UnsealError(UnsealReason.MALFORMED, member="key_id", problem="type")
    _b64("wrapped_key", envelope["wrapped_key"], max_chars=MAX_WRAPPED_KEY_CHARS)
    _b64("iv", envelope["iv"], max_chars=MAX_IV_CHARS)
    return _b64("ciphertext", envelope["ciphertext"], max_chars=MAX_CIPHERTEXT_CHARS)


def unseal(envelope: dict) -> bytes:
    """Open a report's `sealed` object {v, key_id, wrapped_key, iv, ciphertext}."""
    ciphertext = envelope_ciphertext(envelope)
    return unseal_bytes(envelope["key_id"], envelope["wrapped_key"], envelope["iv"], ciphertext)
