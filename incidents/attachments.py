"""Photos attached to reports: checked by content and re-encoded before anything is stored.

A photo from a phone carries GPS coordinates, the camera's serial number, a thumbnail of the
uncropped picture and more (EXIF, XMP, ICC, comments). PRODUCT.md "Do no harm" 3 requires all of
it gone before storage, so the service decodes the pixels and writes a new file from them alone.

Decoding is the expensive part (a 35 kB PNG can declare 36 megapixels), so every check that can be
made without it comes first: the byte size, the format and dimensions from the header, the number
of photos the report already has, and the uploader's hourly allowance.
"""

from __future__ import annotations

import io
import logging
import time
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, UnidentifiedImageError

from incidents.models import Attachment, Incident

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
# 24 megapixels is what phones write at most by default (12 MP for most, 24 MP for some). The
# dimensions are read from the header and checked before any pixel is decoded; decoding then holds
# at most two copies of the picture (the decoded one and its clean RGB(A) copy): under 200 MB.
MAX_PIXELS = 24_000_000
# Pillow's own guard, process-wide, on the same number: it warns past it (turned into a refusal
# here) and refuses outright at twice it, whoever opens an image in this process.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
MAX_ATTACHMENTS_PER_INCIDENT = 10
# Photos one user may send in an hour (each is decoded at some cost): settings'
# ATTACHMENT_UPLOADS_PER_HOUR.
RATE_WINDOW_SECONDS = 3600

# Identified by Pillow from the bytes, never from the file name or the client's content type;
# only these decoders are tried (Pillow would otherwise try every format it knows, EPS included).
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class AttachResult:
    attachment: Attachment
    created: bool


class UploadRateExceeded(Exception):
    """The uploader sent more photos this hour than allowed; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _too_large() -> ValidationError:
    return _refuse(_("The photo is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20})


def _too_many_pixels() -> ValidationError:
    return _refuse(
        _("The photo has too many pixels (at most %(mp)d megapixels).")
        % {"mp": MAX_PIXELS // 1_000_000}
    )


def _unreadable() -> ValidationError:
    return _refuse(_("The photo could not be read; it may be damaged."))


def _report_full() -> ValidationError:
    return _refuse(
        _("A report can have at most %(n)d photos.") % {"n": MAX_ATTACHMENTS_PER_INCIDENT}
    )


def _read_upload(upload) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise _too_large()
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise _refuse(_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    return data


def _open(data: bytes) -> Image.Image:
    """Identify the format and read the declared dimensions from the header; decode nothing."""
    try:
        with warnings.catch_warnings():
            # Past MAX_IMAGE_PIXELS Pillow only warns, and would decode anyway.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _refuse(_("Only JPEG, PNG or WebP photos are accepted.")) from None
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        image.close()
        raise _too_many_pixels()
    return image


def _report_has_room(incident: Incident, image: Image.Image) -> bool:
    """Whether a photo may be decoded for this report: it has room, or the photo may be a copy
    of one it has (same format and dimensions, either way up), which a retry must get back."""
    attachments = incident.attachments.all()
    if attachments.count() < MAX_ATTACHMENTS_PER_INCIDENT:
        return True
    width, height = image.size
    return (
        attachments.filter(content_type=FORMATS[image.format])
        .filter(width__in=(width, height), height__in=(width, height))
        .exists()
    )


def _rate_key(user) -> tuple[str, int]:
    window = int(time.time()) // RATE_WINDOW_SECONDS
    retry_after = (window + 1) * RATE_WINDOW_SECONDS - int(time.time())
    return f"attachment-uploads:{user.pk}:{window}", max(1, retry_after)


def _count_upload(user) -> None:
    """Count one photo against the uploader's hour (a fixed window in Redis, shared by every web
    process); refuse it past the allowance. An unreachable Redis lets the photo through, as the
    API's own throttle does: an outage must not stop reports."""
    limit = settings.ATTACHMENT_UPLOADS_PER_HOUR
    key, retry_after = _rate_key(user)
    cache = caches["throttle"]
    try:
        # SET NX with an expiry, then INCR: both atomic, so concurrent uploads all count, and the
        # key always expires (the window is in its name, so it never outlives its hour).
        cache.add(key, 0, timeout=RATE_WINDOW_SECONDS + 60)
        count = cache.incr(key)
    except ValueError:  # expired between the two calls: this upload opens the next window
        count = 1
    except Exception:  # the cache backend's connection errors vary with the client library
        logger.warning("upload rate store unavailable; photo let through", exc_info=True)
        return
    if count > limit:
        raise UploadRateExceeded(
            _("Too many photos sent in the last hour (at most %(n)d); try again later.")
            % {"n": limit},
            retry_after=retry_after,
        )


def _clean_copy(image: Image.Image) -> tuple[bytes, str, int, int]:
    """Decode the pixels and re-encode them alone: EXIF, GPS, XMP, ICC, comments and thumbnails
    are not copied.

    At most two copies of the picture are held at once: the decoded source is closed as soon as
    its clean copy exists.
    """
    source_format = image.format
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
        # The orientation tag goes with EXIF: turn the picture upright as the camera meant it.
        method = _ORIENTATION.get(image.getexif().get(ExifTags.Base.Orientation, 1))
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        mode = "RGB" if source_format == "JPEG" or not has_alpha else "RGBA"
        # convert() makes a plain image of the pixels; the decoder's metadata stays behind.
        clean = image.convert(mode)
    finally:
        image.close()
    if method is not None:
        clean = clean.transpose(method)
    # Encoders fall back to `info` for some metadata (a JPEG comment, a PNG ICC profile).
    clean.info = {}
    out = io.BytesIO()
    if source_format == "JPEG":
        clean.save(out, format="JPEG", quality=88, optimize=True)
    elif source_format == "PNG":
        clean.save(out, format="PNG", optimize=True)
    else:
        clean.save(out, format="WEBP", quality=85)
    width, height = clean.size
    clean.close()
    return out.getvalue(), FORMATS[source_format], width, height


def _stored_bytes(attachment: Attachment) -> bytes | None:
    """The stored file's bytes, or None when storage has lost it (then it is no duplicate)."""
    try:
        with attachment.file.open("rb") as stored:
            return stored.read()
    except OSError:
        logger.warning("attachment %s: stored file %s is missing", attachment.pk, attachment.file)
        return None


def attachment_add(*, incident: Incident, upload, uploader=None) -> AttachResult:
    """Attach a photo to a report, stripped of its metadata; safe to retry.

    The same photo sent again (the phone did not hear the first answer) re-encodes to the same
    bytes, and the earlier attachment is returned instead of a second copy. `uploader`, when
    given, is held to the hourly allowance of photos (UploadRateExceeded).
    """
    data = _read_upload(upload)
    image = _open(data)
    try:
        if not _report_has_room(incident, image):
            raise _report_full()
        if uploader is not None:
            _count_upload(uploader)
    except BaseException:
        image.close()
        raise
    try:
        content, content_type, width, height = _clean_copy(image)
    except ValidationError:
        raise
    except Exception as exc:  # decoders of untrusted bytes fail in many ways
        logger.warning("photo for %s could not be decoded: %r", incident.client_uuid, exc)
        raise _unreadable() from exc
    # Decoding above runs outside the transaction; the lock is held only for the short write.
    with transaction.atomic():
        # Lock the report so that two copies of one upload cannot both pass the duplicate check.
        incident = Incident.all_objects.select_for_update().get(pk=incident.pk)
        existing = incident.attachments.filter(size_bytes=len(content), content_type=content_type)
        for attachment in existing:
            if _stored_bytes(attachment) == content:
                return AttachResult(attachment=attachment, created=False)
        if incident.attachments.count() >= MAX_ATTACHMENTS_PER_INCIDENT:
            raise _report_full()
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
