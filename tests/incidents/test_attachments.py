"""Photos of reports: only real JPEG, PNG or WebP images, stripped of metadata before storage."""

import io
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile, PngImagePlugin
from rest_framework.test import APIClient

from incidents import attachments
from incidents.attachments import MAX_ATTACHMENTS_PER_INCIDENT, MAX_PIXELS, MAX_UPLOAD_BYTES
from incidents.models import Attachment
from tests.incidents.test_api import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

GPS_IFD = 0x8825
EXIF_IFD = 0x8769


def gps_tagged_jpeg() -> bytes:
    """A JPEG as a phone writes it: GPS position, camera make and serial number in EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0131] = "Firmware 1.2"  # Software
    exif.get_ifd(EXIF_IFD)[0xA431] = "SN-0123456789"  # BodySerialNumber
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (35.0, 52.0, 3.0)
    gps[3] = "E"
    gps[4] = (36.0, 42.0, 11.0)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(
        out, format="JPEG", exif=exif.tobytes(), comment=b"taken near Sarmin"
    )
    return out.getvalue()


def png_with_metadata() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "reporter phone 0999")
    info.add_text("XML:com.adobe.xmp", "<x:xmpmeta>GPS 35.8 36.7</x:xmpmeta>")
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def webp_image() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 30), (0, 128, 0)).save(out, format="WEBP")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions (a pixel flood) but holds a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """A media folder per test: files outlive the rolled-back rows of other tests."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def fresh_upload_allowance(users):
    """Each test starts with a full hour's allowance (user ids repeat from one test run to the
    next, and the counts live in Redis)."""
    for user in users.values():
        caches["throttle"].delete(attachments._rate_key(user)[0])


@pytest.fixture
def decoding(monkeypatch):
    """Records every decode of pixels (ImageFile.load) and every image buffer Pillow allocates."""
    calls = []
    real_load = ImageFile.ImageFile.load

    def spy(self):
        calls.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    before = Image.core.get_stats()["new_count"]
    return lambda: {"loads": calls, "images": Image.core.get_stats()["new_count"] - before}


@pytest.fixture
def report(users):
    return submit(users["reporter_a"], place_name="Sarmin")


def upload(client, incident, content: bytes, name="photo.jpg", content_type="image/jpeg"):
    return client.post(
        f"/api/v1/incidents/{incident.client_uuid}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def client_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def stored_files() -> list[Path]:
    from django.conf import settings

    root = Path(settings.MEDIA_ROOT) / "attachments"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_a_gps_tagged_jpeg_is_accepted_and_stored_without_exif(users, report):
    original = gps_tagged_jpeg()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the fixture has GPS

    response = upload(client_as(users["reporter_a"]), report, original)

    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get(incident=report)
    assert (attachment.content_type, attachment.width, attachment.height) == ("image/jpeg", 64, 48)
    stored = attachment.file.read()
    assert attachment.size_bytes == len(stored)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert not image.getexif()
    assert not {"exif", "comment", "icc_profile", "xmp"} & set(image.info)
    for secret in (b"Exif", b"PhoneMaker", b"SN-0123456789", b"Sarmin"):
        assert secret not in stored


def test_the_stored_file_name_does_not_carry_the_uploaded_name(users, report):
    upload(client_as(users["reporter_a"]), report, gps_tagged_jpeg(), name="IMG_Ahmad_home.jpg")
    name = Attachment.objects.get(incident=report).file.name
    assert "Ahmad" not in name
    assert name.startswith(f"attachments/{report.client_uuid}/") and name.endswith(".jpg")


def test_png_text_and_xmp_chunks_are_dropped(users, report):
    response = upload(
        client_as(users["reporter_a"]), report, png_with_metadata(), "a.png", "image/png"
    )
    assert response.status_code == 201
    stored = Attachment.objects.get(incident=report).file.read()
    assert b"tEXt" not in stored and b"iTXt" not in stored and b"0999" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "PNG" and image.mode == "RGBA"


def test_webp_is_accepted(users, report):
    response = upload(client_as(users["reporter_a"]), report, webp_image(), "w.webp", "image/webp")
    assert response.status_code == 201
    assert response.json()["content_type"] == "image/webp"


def test_the_format_comes_from_the_content_not_the_name_or_content_type(users, report):
    response = upload(
        client_as(users["reporter_a"]), report, webp_image(), "photo.jpg", "image/jpeg"
    )
    assert response.status_code == 201
    assert response.json()["content_type"] == "image/webp"


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        pytest.param(SVG, "x.svg", "image/svg+xml", id="svg"),
        pytest.param(SVG, "x.jpg", "image/jpeg", id="svg-named-jpeg"),
        pytest.param(b"%PDF-1.4 not a photo", "x.jpg", "image/jpeg", id="pdf"),
        pytest.param(b"plain text", "x.png", "image/png", id="text"),
        pytest.param(GIF, "x.gif", "image/gif", id="gif"),
        pytest.param(b"", "x.jpg", "image/jpeg", id="empty"),
        pytest.param(gps_tagged_jpeg()[:300], "x.jpg", "image/jpeg", id="truncated-jpeg"),
        pytest.param(png_header_only(60_000, 60_000), "x.png", "image/png", id="pixel-flood"),
        pytest.param(png_header_only(9_000, 9_000), "x.png", "image/png", id="81-megapixels"),
        pytest.param(png_header_only(6_000, 6_000), "x.png", "image/png", id="36-megapixels"),
        pytest.param(png_header_only(5_000, 4_801), "x.png", "image/png", id="just-over-24-mp"),
    ],
)
def test_what_is_not_a_photo_is_refused_naming_the_field(
    users, report, content, name, content_type
):
    response = upload(client_as(users["reporter_a"]), report, content, name, content_type)

    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert not Attachment.objects.exists()
    assert stored_files() == []


def test_a_pixel_flood_is_refused_as_too_many_pixels(users, report):
    flood = png_header_only(60_000, 60_000)
    response = upload(client_as(users["reporter_a"]), report, flood, "x.png", "image/png")
    assert "pixels" in response.json()["file"][0]


def test_a_small_png_declaring_36_megapixels_is_refused_without_being_decoded(
    users, report, decoding
):
    bomb = png_header_only(6_000, 6_000)
    assert len(bomb) < 2_000
    assert MAX_PIXELS < 6_000 * 6_000

    response = upload(client_as(users["reporter_a"]), report, bomb, "x.png", "image/png")

    assert response.status_code == 400
    assert response.json() == {"file": ["The photo has too many pixels (at most 24 megapixels)."]}
    assert decoding() == {"loads": [], "images": 0}  # no decoder ran, no pixel buffer allocated
    assert not Attachment.objects.exists()


def test_pillow_refuses_past_the_same_pixel_cap_for_every_image_in_the_process():
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS == 24_000_000


def test_pillows_decompression_bomb_warning_is_a_refusal(users, report, monkeypatch, decoding):
    # Were Pillow's guard lower than ours, its warning must refuse the photo, not let it decode.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)
    out = io.BytesIO()
    Image.new("RGB", (40, 40)).save(out, format="PNG")

    response = upload(client_as(users["reporter_a"]), report, out.getvalue(), "x.png", "image/png")

    assert response.status_code == 400
    assert "pixels" in response.json()["file"][0]
    assert decoding()["loads"] == []


def test_an_oversized_file_is_refused_before_it_is_decoded(users, report):
    big = gps_tagged_jpeg() + b"\x00" * MAX_UPLOAD_BYTES
    response = upload(client_as(users["reporter_a"]), report, big)
    assert response.status_code == 400
    assert "file" in response.json()
    assert not Attachment.objects.exists()
    assert stored_files() == []


def test_a_missing_file_is_refused_naming_the_field(users, report):
    response = client_as(users["reporter_a"]).post(
        f"/api/v1/incidents/{report.client_uuid}/attachments/", {}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()


def test_sending_the_same_photo_again_stores_it_once(users, report):
    client = client_as(users["reporter_a"])
    first = upload(client, report, gps_tagged_jpeg())
    again = upload(client, report, gps_tagged_jpeg())
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Attachment.objects.filter(incident=report).count() == 1
    assert len(stored_files()) == 1


def test_a_lost_stored_file_does_not_break_the_next_upload(users, report, media_root):
    client = client_as(users["reporter_a"])
    upload(client, report, gps_tagged_jpeg())
    for path in stored_files():
        path.unlink()
    assert upload(client, report, gps_tagged_jpeg()).status_code == 201


def test_a_report_holds_a_limited_number_of_photos(users, report):
    client = client_as(users["reporter_a"])
    for shade in range(MAX_ATTACHMENTS_PER_INCIDENT):
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (shade * 20, 0, 0)).save(out, format="PNG")
        assert upload(client, report, out.getvalue(), "p.png", "image/png").status_code == 201
    response = upload(client, report, gps_tagged_jpeg())
    assert response.status_code == 400
    assert "file" in response.json()


def small_png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (shade * 20, 0, 0)).save(out, format="PNG")
    return out.getvalue()


def test_a_full_report_refuses_another_photo_before_decoding_it(users, report, decoding):
    client = client_as(users["reporter_a"])
    for shade in range(MAX_ATTACHMENTS_PER_INCIDENT):
        upload(client, report, small_png(shade), "p.png", "image/png")
    decoding()["loads"].clear()

    response = upload(client, report, png_header_only(4_000, 3_000), "x.png", "image/png")

    assert response.status_code == 400
    assert response.json() == {"file": ["A report can have at most 10 photos."]}
    assert decoding()["loads"] == []


def test_a_photo_sent_again_to_a_full_report_is_still_recognised(users, report):
    client = client_as(users["reporter_a"])
    answers = [
        upload(client, report, small_png(shade), "p.png", "image/png")
        for shade in range(MAX_ATTACHMENTS_PER_INCIDENT)
    ]

    again = upload(client, report, small_png(MAX_ATTACHMENTS_PER_INCIDENT - 1), "p.png")

    assert again.status_code == 200
    assert again.json()["id"] == answers[-1].json()["id"]
    assert Attachment.objects.filter(incident=report).count() == MAX_ATTACHMENTS_PER_INCIDENT


def test_photos_past_the_hourly_allowance_are_refused_with_429_naming_the_field(
    users, report, settings, decoding
):
    settings.ATTACHMENT_UPLOADS_PER_HOUR = 2
    client = client_as(users["reporter_a"])
    assert upload(client, report, small_png(1), "p.png").status_code == 201
    assert upload(client, report, small_png(2), "p.png").status_code == 201
    decoding()["loads"].clear()

    response = upload(client, report, small_png(3), "p.png")

    assert response.status_code == 429
    assert response.json() == {
        "file": ["Too many photos sent in the last hour (at most 2); try again later."]
    }
    assert 0 < int(response["Retry-After"]) <= 3600
    assert decoding()["loads"] == []
    assert Attachment.objects.filter(incident=report).count() == 2


def test_the_hourly_allowance_is_per_user(users, report, settings):
    settings.ATTACHMENT_UPLOADS_PER_HOUR = 1
    assert upload(client_as(users["reporter_a"]), report, small_png(1), "p.png").status_code == 201
    assert upload(client_as(users["reporter_a"]), report, small_png(2), "p.png").status_code == 429
    assert upload(client_as(users["analyst"]), report, small_png(2), "p.png").status_code == 201


def test_concurrent_uploads_all_count_against_the_allowance(users, settings):
    """INCR is atomic: of 20 simultaneous uploads against an allowance of 5, exactly 5 pass."""
    from concurrent.futures import ThreadPoolExecutor

    settings.ATTACHMENT_UPLOADS_PER_HOUR = 5
    user = users["reporter_a"]

    def one(_):
        try:
            attachments._count_upload(user)
            return True
        except attachments.UploadRateExceeded:
            return False

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, range(20)))
    assert results.count(True) == 5


def test_an_unreachable_rate_store_lets_the_photo_through(users, report, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(caches["throttle"], "add", down)
    assert upload(client_as(users["reporter_a"]), report, gps_tagged_jpeg()).status_code == 201


def test_a_reporter_cannot_attach_to_another_reporters_report(users, report):
    response = upload(client_as(users["reporter_b"]), report, gps_tagged_jpeg())
    assert response.status_code == 404
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_analysts_and_admins_may_attach_to_any_report(users, report, who):
    assert upload(client_as(users[who]), report, gps_tagged_jpeg()).status_code == 201


@pytest.mark.parametrize("who", ["partner", "no_role"])
def test_partners_and_users_without_a_role_may_not_attach(users, report, who):
    assert upload(client_as(users[who]), report, gps_tagged_jpeg()).status_code == 403


def test_anonymous_callers_may_not_attach(report):
    assert upload(APIClient(), report, gps_tagged_jpeg()).status_code in (401, 403)


def test_an_unknown_report_is_not_found(users):
    fake = type("Fake", (), {"client_uuid": uuid.uuid4()})()
    assert upload(client_as(users["analyst"]), fake, gps_tagged_jpeg()).status_code == 404


def test_the_owner_lists_the_photos_of_a_report(users, report):
    client = client_as(users["reporter_a"])
    upload(client, report, gps_tagged_jpeg())
    response = client.get(f"/api/v1/incidents/{report.client_uuid}/attachments/")
    assert response.status_code == 200
    assert [row["content_type"] for row in response.json()] == ["image/jpeg"]
    assert (
        client_as(users["reporter_b"])
        .get(f"/api/v1/incidents/{report.client_uuid}/attachments/")
        .status_code
        == 404
    )
