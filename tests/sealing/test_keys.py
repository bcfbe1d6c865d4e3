"""Sealing keys: files with tight permissions, one active key, rotation and retirement."""

import base64
import datetime
import io
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from sealing.keys import (
    ALGORITHM,
    SealingUnavailable,
    sealing_config,
    sealing_key_ensure,
    sealing_key_rotate,
)
from sealing.models import QuarantinedSubmission, SealingKey

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def run(*args) -> str:
    out = io.StringIO()
    call_command("sealing_keys", *args, stdout=out)
    return out.getvalue()


def test_ensure_creates_an_active_key_with_a_private_file(keys_dir):
    output = run("ensure")

    key = SealingKey.objects.active().get()
    assert key.key_id in output
    pem = (keys_dir / f"{key.key_id}.pem").read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8, unencrypted
    private_key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    assert private_key.key_size == 3072
    assert private_key.public_key().public_numbers().e == 65537
    assert private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == bytes(key.public_key)


def test_key_files_are_0600_in_a_0700_folder(keys_dir):
    run("ensure")
    run("rotate")

    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    files = list(keys_dir.iterdir())
    assert len(files) == 2
    assert {stat.S_IMODE(path.stat().st_mode) for path in files} == {0o600}


def test_a_loose_key_folder_is_tightened(keys_dir):
    keys_dir.mkdir(mode=0o755)
    keys_dir.chmod(0o755)

    run("ensure")

    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700


def test_ensure_is_quiet_and_idempotent(keys_dir):
    run("ensure")
    count = SealingKey.objects.count()

    assert run("ensure") == ""
    assert SealingKey.objects.count() == count


def test_ensure_replaces_an_active_key_whose_private_file_is_missing(keys_dir):
    run("ensure")
    lost = SealingKey.objects.active().get()
    (keys_dir / f"{lost.key_id}.pem").unlink()

    assert run("ensure")

    lost.refresh_from_db()
    assert lost.active is False and lost.superseded_at is not None
    assert SealingKey.objects.active().get() != lost


def test_rotate_makes_a_new_active_key_and_keeps_the_old(keys_dir):
    run("ensure")
    old = SealingKey.objects.active().get()

    run("rotate")

    old.refresh_from_db()
    new = SealingKey.objects.active().get()
    assert new != old
    assert old.active is False and old.superseded_at is not None and old.retired_at is None
    assert (keys_dir / f"{old.key_id}.pem").exists()


def test_only_one_key_can_be_active(keys_dir):
    key = sealing_key_rotate()

    with pytest.raises(IntegrityError), transaction.atomic():
        SealingKey.objects.create(key_id="other", public_key=bytes(key.public_key), active=True)


def test_list_shows_every_key_and_its_private_file(keys_dir):
    old = sealing_key_rotate()
    new = sealing_key_rotate()
    (keys_dir / f"{old.key_id}.pem").unlink()

    output = run("list")

    old_line = next(line for line in output.splitlines() if line.startswith(old.key_id))
    new_line = next(line for line in output.splitlines() if line.startswith(new.key_id))
    assert "MISSING" in old_line and " no " in old_line
    assert "present" in new_line and " yes " in new_line and "never" in new_line


def test_the_active_key_cannot_be_retired(keys_dir):
    key = sealing_key_rotate()

    with pytest.raises(CommandError, match="active key"):
        run("retire", key.key_id, "--delete-private", "--force")

    assert (keys_dir / f"{key.key_id}.pem").exists()


def test_a_recently_superseded_key_keeps_its_private_file(keys_dir):
    old = sealing_key_rotate()
    sealing_key_rotate()

    with pytest.raises(CommandError, match="SEALING_KEY_KEEP_DAYS"):
        run("retire", old.key_id, "--delete-private")

    assert (keys_dir / f"{old.key_id}.pem").exists()


def test_retire_without_deleting_only_marks_the_key(keys_dir):
    old = sealing_key_rotate()
    sealing_key_rotate()

    run("retire", old.key_id)

    old.refresh_from_db()
    assert old.retired_at is not None
    assert (keys_dir / f"{old.key_id}.pem").exists()


def test_a_key_superseded_long_ago_can_have_its_private_file_deleted(keys_dir, settings):
    old = sealing_key_rotate()
    sealing_key_rotate()
    SealingKey.objects.filter(pk=old.pk).update(
        superseded_at=timezone.now() - datetime.timedelta(days=settings.SEALING_KEY_KEEP_DAYS + 1)
    )

    run("retire", old.key_id, "--delete-private")

    assert not (keys_dir / f"{old.key_id}.pem").exists()
    old.refresh_from_db()
    assert old.retired_at is not None


def test_a_key_that_quarantined_submissions_need_keeps_its_file(keys_dir, settings, users):
    old = sealing_key_rotate()
    sealing_key_rotate()
    SealingKey.objects.filter(pk=old.pk).update(
        superseded_at=timezone.now() - datetime.timedelta(days=settings.SEALING_KEY_KEEP_DAYS + 1)
    )
    QuarantinedSubmission.objects.create(
        kind="report",
        user=users["reporter_a"],
        client_uuid="2d6b1a0e-6f59-4b8e-9a4f-2f1c3a1c9b11",
        key_id=old.key_id,
        reason="key_missing",
        envelope={},
        digest="0" * 64,
        path="/api/v1/incidents/",
    )

    with pytest.raises(CommandError, match="quarantined"):
        run("retire", old.key_id, "--delete-private")

    run("retire", old.key_id, "--delete-private", "--force")
    assert not (keys_dir / f"{old.key_id}.pem").exists()


def test_force_deletes_a_recent_key(keys_dir):
    old = sealing_key_rotate()
    sealing_key_rotate()

    run("retire", old.key_id, "--delete-private", "--force")

    assert not (keys_dir / f"{old.key_id}.pem").exists()


def test_retiring_an_unknown_key_is_an_error(keys_dir):
    with pytest.raises(CommandError, match="No sealing key"):
        run("retire", "nope")


def test_sealing_config_is_the_active_public_key(keys_dir):
    key = sealing_key_rotate()

    config = sealing_config()

    assert config == {
        "keyId": key.key_id,
        "publicKey": base64.b64encode(bytes(key.public_key)).decode(),
        "algorithm": ALGORITHM,
    }
    public_key = serialization.load_der_public_key(base64.b64decode(config["publicKey"]))
    assert public_key.key_size == 3072


def test_sealing_config_makes_a_key_on_demand_in_tests(keys_dir):
    SealingKey.objects.all().delete()

    config = sealing_config()

    assert SealingKey.objects.active().get().key_id == config["keyId"]
    assert (keys_dir / f"{config['keyId']}.pem").exists()


def test_sealing_config_without_a_key_says_how_to_make_one(keys_dir, settings):
    settings.SEALING_KEYS_CREATE_ON_DEMAND = False
    SealingKey.objects.all().delete()

    with pytest.raises(SealingUnavailable, match="sealing_keys ensure"):
        sealing_config()


def test_ensure_returns_the_existing_key_without_writing(keys_dir):
    key, created = sealing_key_ensure()

    again, created_again = sealing_key_ensure()

    assert created and not created_again
    assert again == key
