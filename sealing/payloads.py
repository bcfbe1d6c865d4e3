"""Where a sealed request becomes a plain one: the API views read their input through these, then
validate and store it exactly as a plain submission (same serializer, service and messages).

Requests without sealed parts are passed through unchanged (API clients send plain JSON).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from sealing.keys import TAG_BYTES, UnsealError, envelope_ciphertext, unseal_bytes
from sealing.models import QuarantinedSubmission, UnsealReason
from sealing.quarantine import QuarantineFull, submission_quarantine

# The multipart fields that make a photo upload sealed, and the envelope member each carries.
SEALED_UPLOAD_FIELDS = {
    "sealed_key_id": "key_id",
    "sealed_wrapped_key": "wrapped_key",
    "sealed_iv": "iv",
}

REPORT_KEPT = gettext_lazy(
    "The report could not be decrypted on the server and is kept for an administrator; keep it "
    "on your device."
)
PHOTO_KEPT = gettext_lazy(
    "The photo could not be decrypted on the server and is kept for an administrator; keep it "
    "on your device."
)
NOT_KEPT = gettext_lazy(
    "This could not be decrypted on the server; keep it on your device and tell an administrator."
)


class SealedUploadTooLarge(Exception):
    """A sealed photo larger than the photo cap (plus the tag): refused before decryption."""


def _malformed(error: UnsealError, name: str) -> str:
    if error.problem == "object":
        return _("This must be an object with v, key_id, wrapped_key, iv and ciphertext.")
    if error.problem == "missing":
        return _("%(name)s is missing.") % {"name": name}
    if error.problem == "unknown":
        return _("%(name)s is not part of a sealed report.") % {"name": name}
    if error.problem == "version":
        return _("Only version 1 of sealing is understood.")
    if error.problem == "base64":
        return _("%(name)s is not valid base64.") % {"name": name}
    return _("%(name)s has the wrong type or length.") % {"name": name}


def _client_uuid(data) -> uuid.UUID:
    try:
        return serializers.UUIDField().run_validation(data.get("client_uuid", serializers.empty))
    except serializers.ValidationError as exc:
        raise ValidationError({"client_uuid": exc.detail}) from None


def _keep(request, *, field: str, message, **quarantine) -> ValidationError:
    try:
        submission_quarantine(user=request.user, path=request.path, **quarantine)
    except QuarantineFull:
        message = NOT_KEPT
    return ValidationError({field: [str(message)]})


def _same_uuid(value: Any, client_uuid: uuid.UUID) -> bool:
    try:
        return uuid.UUID(str(value)) == client_uuid
    except ValueError:
        return False


def _parse_constant(value: str):
    raise ValueError(f"{value} is not JSON")


def submission_payload(request) -> Any:
    """The report to validate: `request.data` itself, or the decrypted `sealed` report with the
    outer client_uuid. An envelope that cannot be opened is quarantined (400 naming `sealed`)."""
    data = request.data
    if not hasattr(data, "keys") or "sealed" not in data:
        return data
    unknown = sorted(set(data) - {"client_uuid", "sealed"})
    if unknown:
        raise ValidationError({str(name)[:100]: [_("Unknown field.")] for name in unknown[:20]})
    client_uuid = _client_uuid(data)
    envelope = data["sealed"]
    try:
        ciphertext = envelope_ciphertext(envelope)
        plaintext = unseal_bytes(
            envelope["key_id"], envelope["wrapped_key"], envelope["iv"], ciphertext
        )
        payload = json.loads(plaintext.decode("utf-8"), parse_constant=_parse_constant)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except UnsealError as exc:
        if exc.reason == UnsealReason.MALFORMED:
            raise ValidationError({"sealed": [_malformed(exc, exc.member)]}) from None
        reason = exc.reason
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        reason = UnsealReason.PLAINTEXT
    else:
        if "client_uuid" in payload and not _same_uuid(payload["client_uuid"], client_uuid):
            raise ValidationError(
                {
                    "client_uuid": [
                        _("The client UUID inside the sealed report differs from the one outside.")
                    ]
                }
            )
        return {**payload, "client_uuid": str(client_uuid)}
    raise _keep(
        request,
        field="sealed",
        message=REPORT_KEPT,
        kind=QuarantinedSubmission.Kind.REPORT,
        client_uuid=client_uuid,
        reason=reason,
        envelope=envelope,
    )


def upload_payload(request, *, client_uuid: uuid.UUID, max_bytes: int, field: str = "file") -> Any:
    """The upload to validate: `request.data` itself, or `{field: the decrypted photo}` when the
    photo is sealed (sealed_key_id, sealed_wrapped_key, sealed_iv). The size is checked before
    decryption (SealedUploadTooLarge); a photo that cannot be opened is quarantined (400 naming
    `field`)."""
    data = request.data
    if not any(name in data for name in SEALED_UPLOAD_FIELDS):
        return data
    errors = {
        name: [serializers.Field.default_error_messages["required"]]
        for name in SEALED_UPLOAD_FIELDS
        if not isinstance(data.get(name), str)
    }
    if errors:
        raise ValidationError(errors)
    upload = data.get(field)
    if not hasattr(upload, "read"):
        return {field: upload}  # the serializer names what is wrong with it
    if upload.size > max_bytes + TAG_BYTES:
        raise SealedUploadTooLarge()
    upload.seek(0)
    ciphertext = upload.read(max_bytes + TAG_BYTES + 1)
    parts = {member: data[name] for name, member in SEALED_UPLOAD_FIELDS.items()}
    try:
        photo = unseal_bytes(parts["key_id"], parts["wrapped_key"], parts["iv"], ciphertext)
    except UnsealError as exc:
        if exc.reason == UnsealReason.MALFORMED:
            name = next(
                (name for name, member in SEALED_UPLOAD_FIELDS.items() if member == exc.member),
                field,
            )
            raise ValidationError({name: [_malformed(exc, name)]}) from None
        raise _keep(
            request,
            field=field,
            message=PHOTO_KEPT,
            kind=QuarantinedSubmission.Kind.PHOTO,
            client_uuid=client_uuid,
            reason=exc.reason,
            envelope={"v": 1, **parts},
            ciphertext=ciphertext,
        ) from None
    return {field: SimpleUploadedFile("photo", photo, content_type="application/octet-stream")}
