"""Sealed submissions the server could not open: kept, still sealed, until their key is back.

A report is never stored half: what cannot be decrypted is not passed on, but kept here as it
arrived (the sender's phone is told to keep its copy too). Once the key file is restored from the
backup, "try again" sends it once more through the same API endpoint as its sender, so the same
permissions, checks and idempotent services apply as to any submission.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.test import force_authenticate

from sealing.models import QuarantinedSubmission, UnsealReason

logger = logging.getLogger(__name__)

RETRY_RESULT_MAX_CHARS = 2000


class QuarantineFull(Exception):
    """The sender already has SEALING_QUARANTINE_MAX_PER_USER submissions waiting: not kept."""


def _digest(envelope: dict, ciphertext: bytes) -> str:
    canonical = json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical + b"\0" + ciphertext).hexdigest()


def submission_quarantine(
    *,
    kind: QuarantinedSubmission.Kind,
    user,
    client_uuid: uuid.UUID,
    reason: UnsealReason,
    envelope: dict,
    path: str,
    ciphertext: bytes = b"",
) -> QuarantinedSubmission:
    """Keep a sealed submission that could not be opened; the same one again is kept once.

    Each is capped in size by the caller's checks (envelope members, the photo cap); the number a
    sender may have waiting is capped by SEALING_QUARANTINE_MAX_PER_USER (QuarantineFull).
    """
    digest = _digest(envelope, ciphertext)
    existing = QuarantinedSubmission.objects.filter(
        kind=kind, client_uuid=client_uuid, digest=digest
    ).first()
    if existing is not None:
        return existing
    waiting = QuarantinedSubmission.objects.unresolved().filter(user=user).count()
    if waiting >= settings.SEALING_QUARANTINE_MAX_PER_USER:
        logger.error(
            "sealed %s %s of user %s not kept: quarantine full", kind, client_uuid, user.pk
        )
        raise QuarantineFull()
    try:
        with transaction.atomic():
            item = QuarantinedSubmission.objects.create(
                kind=kind,
                user=user,
                client_uuid=client_uuid,
                key_id=str(envelope.get("key_id", ""))[:64],
                reason=reason,
                envelope=envelope,
                ciphertext=ciphertext,
                digest=digest,
                path=path[:300],
            )
    except IntegrityError:  # the same envelope, kept by a concurrent request
        return QuarantinedSubmission.objects.get(kind=kind, client_uuid=client_uuid, digest=digest)
    logger.warning(
        "sealed %s %s from user %s quarantined: %s (key %s)",
        kind,
        client_uuid,
        user.pk,
        reason,
        item.key_id,
    )
    return item


@dataclass(frozen=True)
class RetryResult:
    status: int | None
    stored: bool
    detail: str


def _replay_request(item: QuarantinedSubmission):
    factory = RequestFactory()
    if item.kind == QuarantinedSubmission.Kind.REPORT:
        body = json.dumps({"client_uuid": str(item.client_uuid), "sealed": item.envelope})
        return factory.post(item.path, data=body, content_type="application/json")
    return factory.post(
        item.path,
        data={
            "file": SimpleUploadedFile(
                "photo", bytes(item.ciphertext), content_type="application/octet-stream"
            ),
            "sealed_key_id": item.envelope["key_id"],
            "sealed_wrapped_key": item.envelope["wrapped_key"],
            "sealed_iv": item.envelope["iv"],
        },
    )


def _replay(match, request) -> RetryResult:
    try:
        response = match.func(request, *match.args, **match.kwargs)
        if hasattr(response, "render"):
            response.render()
    except Exception:
        logger.exception("retrying a quarantined submission failed")
        return RetryResult(status=None, stored=False, detail=_("The server failed; see its log."))
    detail = response.content.decode("utf-8", "replace")[:RETRY_RESULT_MAX_CHARS]
    return RetryResult(
        status=response.status_code, stored=response.status_code in (200, 201), detail=detail
    )


def quarantined_submission_retry(*, item: QuarantinedSubmission) -> RetryResult:
    """Send a kept submission again, as its sender, to the endpoint it was sent to; it is stored
    (201, or 200 when the phone got it through meanwhile) once its key is back."""
    if item.resolved_at is not None:
        return RetryResult(status=None, stored=True, detail="")
    if item.user is None or not item.user.is_active:
        result = RetryResult(
            status=None, stored=False, detail=_("The sender's account is deleted or deactivated.")
        )
    else:
        request = _replay_request(item)
        force_authenticate(request, user=item.user)
        try:
            match = resolve(item.path)
        except Resolver404:
            result = RetryResult(status=None, stored=False, detail=_("No such endpoint."))
        else:
            result = _replay(match, request)
    now = timezone.now()
    item.retried_at = now
    item.retry_status = result.status
    item.retry_result = result.detail
    item.resolved_at = now if result.stored else None
    item.save(update_fields=["retried_at", "retry_status", "retry_result", "resolved_at"])
    return result
