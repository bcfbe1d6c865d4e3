"""Photos sealed with their report's key: size checked first, decrypted, then the usual pipeline."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from incidents.attachments import MAX_UPLOAD_BYTES
from incidents.models import Attachment
from sealing import keys
from sealing.models import QuarantinedSubmission, UnsealReason
from tests.incidents.test_api import submit
from tests.incidents.test_attachments import GPS_IFD, gps_tagged_jpeg
from tests.sealing.conftest import Sealer, client_as

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("reference_data", "fresh_upload_allowance"),
]

PHOTO_KEPT = (
    "The photo could not be decrypted on the server and is kept for an administrator; keep it "
    "on your device."
)


@pytest.fixture
def report(users):
    return submit(users["reporter_a"], place_name="Sarmin")


def url(incident) -> str:
    return f"/api/v1/incidents/{incident.client_uuid}/attachments/"


def post_sealed_photo(client, incident, fields: dict, ciphertext: bytes):
    # As the browser sends it: the file named "photo", typed application/octet-stream.
    blob = SimpleUploadedFile("photo", ciphertext, content_type="application/octet-stream")
    return client.post(url(incident), {"file": blob, **fields}, format="multipart")


def test_a_sealed_photo_is_stored_as_the_plain_pipeline_stores_it(users, sealing, report):
    client = client_as(users["reporter_a"])
    photo = gps_tagged_jpeg()
    fields, ciphertext = Sealer(sealing).photo_fields(photo)

    sealed = post_sealed_photo(client, report, fields, ciphertext)
    plain = client.post(
        url(report),
        {"file": SimpleUploadedFile("p.jpg", photo, content_type="image/jpeg")},
        format="multipart",
    )

    assert sealed.status_code == 201, sealed.json()
    # The plain upload of the same photo finds the sealed one's attachment: the same bytes.
    assert plain.status_code == 200
    assert plain.json() == sealed.json()
    attachment = Attachment.objects.get()
    assert attachment.content_type == "image/jpeg"
    with attachment.file.open("rb") as stored:
        assert not Image.open(io.BytesIO(stored.read())).getexif().get_ifd(GPS_IFD)


def test_resending_a_sealed_photo_returns_the_first(users, sealing, report):
    client = client_as(users["reporter_a"])
    fields, ciphertext = Sealer(sealing).photo_fields(gps_tagged_jpeg())

    first = post_sealed_photo(client, report, fields, ciphertext)
    again = post_sealed_photo(client, report, fields, ciphertext)

    assert (first.status_code, again.status_code) == (201, 200)
    assert Attachment.objects.count() == 1


def test_a_sealed_file_that_is_not_a_photo_gets_the_plain_message(users, sealing, report):
    fields, ciphertext = Sealer(sealing).photo_fields(b"%PDF-1.4 not a photo")

    response = post_sealed_photo(client_as(users["reporter_a"]), report, fields, ciphertext)

    assert response.status_code == 400
    assert response.json() == {"file": ["Only JPEG, PNG or WebP photos are accepted."]}
    assert not QuarantinedSubmission.objects.exists()


def test_a_tampered_photo_is_quarantined_with_its_ciphertext(users, sealing, report):
    fields, ciphertext = Sealer(sealing).photo_fields(gps_tagged_jpeg())
    tampered = ciphertext[:-1] + bytes([ciphertext[-1] ^ 1])

    response = post_sealed_photo(client_as(users["reporter_a"]), report, fields, tampered)

    assert response.status_code == 400
    assert response.json() == {"file": [PHOTO_KEPT]}
    assert not Attachment.objects.exists()
    kept = QuarantinedSubmission.objects.get()
    assert (kept.kind, kept.client_uuid, kept.reason) == ("photo", report.client_uuid, "tag")
    assert bytes(kept.ciphertext) == tampered
    assert kept.envelope == {"v": 1, "key_id": sealing["keyId"], **_members(fields)}


def _members(fields: dict) -> dict:
    return {"wrapped_key": fields["sealed_wrapped_key"], "iv": fields["sealed_iv"]}


def test_a_photo_sealed_for_an_unknown_key_is_quarantined(users, sealing, report):
    fields, ciphertext = Sealer(sealing).photo_fields(gps_tagged_jpeg())
    fields["sealed_key_id"] = "fedcba9876543210"

    response = post_sealed_photo(client_as(users["reporter_a"]), report, fields, ciphertext)

    assert response.json() == {"file": [PHOTO_KEPT]}
    assert QuarantinedSubmission.objects.get().reason == UnsealReason.UNKNOWN_KEY


def test_a_sealed_photo_over_the_cap_is_refused_before_decryption(
    users, sealing, report, monkeypatch
):
    fields, _ = Sealer(sealing).photo_fields(b"x")

    def never(*args, **kwargs):
        raise AssertionError("decrypted")

    monkeypatch.setattr("sealing.payloads.unseal_bytes", never)
    response = post_sealed_photo(
        client_as(users["reporter_a"]), report, fields, b"\0" * (MAX_UPLOAD_BYTES + 17)
    )

    assert response.status_code == 400
    assert response.json() == {"file": ["The photo is larger than 8 MB."]}


def test_a_sealed_photo_at_the_cap_plus_its_tag_is_decrypted(users, sealing, report):
    sealer = Sealer(sealing)
    fields, ciphertext = sealer.photo_fields(b"\0" * MAX_UPLOAD_BYTES)
    assert len(ciphertext) == MAX_UPLOAD_BYTES + keys.TAG_BYTES

    response = post_sealed_photo(client_as(users["reporter_a"]), report, fields, ciphertext)

    assert response.json() == {"file": ["Only JPEG, PNG or WebP photos are accepted."]}


def test_a_missing_sealed_field_is_named(users, sealing, report):
    fields, ciphertext = Sealer(sealing).photo_fields(gps_tagged_jpeg())
    del fields["sealed_iv"]

    response = post_sealed_photo(client_as(users["reporter_a"]), report, fields, ciphertext)

    assert response.status_code == 400
    assert list(response.json()) == ["sealed_iv"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sealed_iv", "garbage!"),
        ("sealed_iv", "AAAA"),
        ("sealed_wrapped_key", "@@@@"),
        ("sealed_key_id", "../secret"),
    ],
)
def test_a_malformed_sealed_field_is_named(users, sealing, report, name, value):
    fields, ciphertext = Sealer(sealing).photo_fields(gps_tagged_jpeg())
    fields[name] = value

    response = post_sealed_photo(client_as(users["reporter_a"]), report, fields, ciphertext)

    assert response.status_code == 400
    assert list(response.json()) == [name]
    assert not QuarantinedSubmission.objects.exists()


def test_a_sealed_photo_for_someone_elses_report_is_not_found(users, sealing, report):
    fields, ciphertext = Sealer(sealing).photo_fields(b"tampered anyway")

    response = post_sealed_photo(client_as(users["reporter_b"]), report, fields, ciphertext)

    assert response.status_code == 404
    assert not QuarantinedSubmission.objects.exists()


def test_a_sealed_photo_without_a_file_gets_the_plain_message(users, sealing, report):
    fields, _ = Sealer(sealing).photo_fields(b"x")

    response = client_as(users["reporter_a"]).post(url(report), fields, format="multipart")

    assert response.status_code == 400
    assert list(response.json()) == ["file"]
