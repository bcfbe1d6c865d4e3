"""Photos attached to reports: checked by content and re-encoded before anything is stored.

A photo from a phone carries GPS coordinates, the camera's serial number, a thumbnail of the
uncropped picture and more (EXIF, XMP, ICC, comments). PRODUCT.md "Do no harm" 3 requires all of
it gone before storage, so the service decodes the pixels and writes a new file from them alone.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from incidents.models import Attachment, Incident

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
# 40 megapixels is more than phones write by default; the decoded RGBA image is then at most
# 160 MB. Checked from the header before any pixel is decoded (decompression bombs).
MAX_PIXELS = 40_000_000
MAX_ATTACHMENTS_PER_INCIDENT = 10

# Identified by Pillow from the bytes, never from the file name or the client's content type;
# only these decoders are tried (Pillow would otherwise try every format it knows, EPS included).
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class AttachResult:
    attachment: Attachment
    created: bool


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _read_upload(upload) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise _refuse(_("The photo is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20})
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise _refuse(_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise _refuse(_("The photo is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20})
    return data


def _decode(data: bytes) -> Image.Image:
    """Identify the format from the bytes, check the dimensions, then decode the pixels."""
    too_many_pixels = _refuse(
        _("The photo has too many pixels (at most %(mp)d megapixels).")
        % {"mp": MAX_PIXELS // 1_000_000}
    )
    try:
        # Reads the header only; Pillow itself refuses sizes past twice MAX_IMAGE_PIXELS here.
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except Image.DecompressionBombError:
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _refuse(_("Only JPEG, PNG or WebP photos are accepted.")) from None
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise too_many_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as exc:
        raise _refuse(_("The photo could not be read; it may be damaged.")) from exc
    return image


def _clean_copy(image: Image.Image) -> tuple[bytes, str, int, int]:
    """Re-encode the pixels alone: EXIF, GPS, XMP, ICC, comments and thumbnails are not copied."""
    source_format = image.format
    # Turn the picture upright as the camera meant it, since the orientation tag goes with EXIF.
    image = ImageOps.exif_transpose(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if source_format == "JPEG" or not has_alpha:
        pixels = image.convert("RGB")
    else:
        pixels = image.convert("RGBA")
    # A new image from the raw pixels: nothing from the source's `info` can reach the encoder.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if source_format == "JPEG":
        clean.save(out, format="JPEG", quality=88, optimize=True)
    elif source_format == "PNG":
        clean.save(out, format="PNG", optimize=True)
    else:
        clean.save(out, format="WEBP", quality=85)
    return out.getvalue(), FORMATS[source_format], clean.width, clean.height


def _stored_bytes(attachment: Attachment) -> bytes | None:
    """The stored file's bytes, or None when storage has lost it (then it is no duplicate)."""
    try:
        with attachment.file.open("rb") as stored:
            return stored.read()
    except OSError:
        logger.warning("attachment %s: stored file %s is missing", attachment.pk, attachment.file)
        return None


def attachment_add(*, incident: Incident, upload) -> AttachResult:
    """Attach a photo to a report, stripped of its metadata; safe to retry.

    The same photo sent again (the phone did not hear the first answer) re-encodes to the same
    bytes, and the earlier attachment is returned instead of a second copy.
    """
    data = _read_upload(upload)
    image = _decode(data)
    try:
        content, content_type, width, height = _clean_copy(image)
    except Exception as exc:  # decoders of untrusted bytes fail in many ways
        logger.warning("photo for %s could not be re-encoded: %r", incident.client_uuid, exc)
        raise _refuse(_("The photo could not be read; it may be damaged.")) from exc
    # Decoding above runs outside the transaction; the lock is held only for the short write.
    with transaction.atomic():
        # Lock the report so that two copies of one upload cannot both pass the duplicate check.
        incident = Incident.all_objects.select_for_update().get(pk=incident.pk)
        existing = incident.attachments.filter(size_bytes=len(content), content_type=content_type)
        for attachment in existing:
            if _stored_bytes(attachment) == content:
                return AttachResult(attachment=attachment, created=False)
        if incident.attachments.count() >= MAX_ATTACHMENTS_PER_INCIDENT:
            raise _refuse(
                _("A report can have at most %(n)d photos.") % {"n": MAX_ATTACHMENTS_PER_INCIDENT}
            )
        attachment = Attachment(
            incident=incident,
            content_type=content_type,
            width=width,
            height=height,
            size_bytes=len(content),
        )
        # The file name is chosen by attachment_path; the uploader's name is never used.
        attachment.file.save("photo", ContentFile(content), save=False)
        try:
            attachment.save()
        except Exception:
            attachment.file.delete(save=False)
            raise
    return AttachResult(attachment=attachment, created=True)
