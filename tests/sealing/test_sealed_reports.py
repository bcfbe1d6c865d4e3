"""Reports sealed on the phone: decrypted on receipt, then handled exactly as plain ones."""

import base64
import json
import uuid

import pytest

from incidents.models import Incident
from sealing.keys import sealing_key_rotate
from sealing.models import QuarantinedSubmission, UnsealReason
from tests.sealing.conftest import Sealer, b64, client_as, post_sealed, report_payload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

KEPT = (
    "The report could not be decrypted on the server and is kept for an administrator; keep it "
    "on your device."
)


def test_a_sealed_report_is_stored_with_its_decrypted_fields(users, sealing, new_uuid):
    envelope = Sealer(sealing).envelope(report_payload())

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.status_code == 201, response.json()
    incident = Incident.objects.get(client_uuid=new_uuid)
    assert incident.reporter == users["reporter_a"]
    assert incident.description == "غارتان على المنطقة الصناعية الشرقية."
    assert incident.place_name == "Idlib"
    assert incident.explosions_count == 2
    assert incident.sub_event_type.slug == "air-drone-strike"
    assert response.json()["id"] == str(new_uuid)
    assert not QuarantinedSubmission.objects.exists()


def test_a_sealed_report_is_stored_as_its_plain_submission_would_be(users, sealing):
    payload = report_payload()
    client = client_as(users["reporter_a"])
    plain_uuid, sealed_uuid = uuid.uuid4(), uuid.uuid4()
    plain = client.post(
        "/api/v1/incidents/", {"client_uuid": str(plain_uuid), **payload}, format="json"
    ).json()
    sealed = post_sealed(client, sealed_uuid, Sealer(sealing).envelope(payload)).json()

    different = {"id", "created_at", "updated_at"}
    assert {k: v for k, v in plain.items() if k not in different} == {
        k: v for k, v in sealed.items() if k not in different
    }
    first, second = (Incident.objects.get(client_uuid=u) for u in (plain_uuid, sealed_uuid))
    assert first.submission_digest == second.submission_digest


def test_resending_the_same_sealed_report_returns_the_first_and_stores_it_once(
    users, sealing, new_uuid
):
    envelope = Sealer(sealing).envelope(report_payload())
    client = client_as(users["reporter_a"])

    first = post_sealed(client, new_uuid, envelope)
    again = post_sealed(client, new_uuid, envelope)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Incident.objects.filter(client_uuid=new_uuid).count() == 1


def test_the_same_report_sealed_again_with_a_new_key_is_a_repeat(users, sealing, new_uuid):
    client = client_as(users["reporter_a"])
    payload = report_payload()
    post_sealed(client, new_uuid, Sealer(sealing).envelope(payload))

    response = post_sealed(client, new_uuid, Sealer(sealing).envelope(payload))

    assert response.status_code == 200


def test_other_content_under_the_same_uuid_is_a_conflict(users, sealing, new_uuid):
    client = client_as(users["reporter_a"])
    post_sealed(client, new_uuid, Sealer(sealing).envelope(report_payload()))

    response = post_sealed(
        client, new_uuid, Sealer(sealing).envelope(report_payload(explosions_count=9))
    )

    assert response.status_code == 409
    assert "client_uuid" in response.json()
    assert Incident.objects.get(client_uuid=new_uuid).explosions_count == 2


def test_a_field_error_inside_a_sealed_report_names_the_field(users, sealing, new_uuid):
    envelope = Sealer(sealing).envelope(report_payload(explosions_count=-1, weapon="catapult"))

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.status_code == 400
    assert set(response.json()) == {"explosions_count", "weapon"}
    assert not Incident.objects.exists()
    assert not QuarantinedSubmission.objects.exists()


def test_a_service_error_inside_a_sealed_report_names_the_field(users, sealing, new_uuid):
    outside = {"type": "Point", "coordinates": [35.93062, 36.63393]}  # lon and lat swapped
    envelope = Sealer(sealing).envelope(report_payload(location=outside))

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.status_code == 400
    assert "location" in response.json()


def test_server_fields_inside_a_sealed_report_are_refused_by_name(users, sealing, new_uuid):
    envelope = Sealer(sealing).envelope(report_payload(review_status="verified"))

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.status_code == 400
    assert response.json() == {"review_status": ["This field is set by the server."]}


def test_an_inner_client_uuid_that_differs_is_refused(users, sealing, new_uuid):
    envelope = Sealer(sealing).envelope(report_payload(client_uuid=str(uuid.uuid4())))

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.status_code == 400
    assert list(response.json()) == ["client_uuid"]
    assert not Incident.objects.exists()


def test_an_inner_client_uuid_that_matches_is_accepted(users, sealing, new_uuid):
    envelope = Sealer(sealing).envelope(report_payload(client_uuid=str(new_uuid).upper()))

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.status_code == 201


def test_a_sealed_report_needs_the_outer_client_uuid(users, sealing):
    envelope = Sealer(sealing).envelope(report_payload())

    response = client_as(users["reporter_a"]).post(
        "/api/v1/incidents/", {"sealed": envelope}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["client_uuid"]


def test_tampered_ciphertext_is_quarantined_and_nothing_is_stored(users, sealing, new_uuid):
    envelope = Sealer(sealing).envelope(report_payload())
    raw = bytearray(base64.b64decode(envelope["ciphertext"]))
    raw[5] ^= 0x01
    envelope["ciphertext"] = b64(bytes(raw))

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.status_code == 400
    assert response.json() == {"sealed": [KEPT]}
    assert not Incident.objects.exists()
    kept = QuarantinedSubmission.objects.get()
    assert (kept.kind, kept.client_uuid, kept.user, kept.reason) == (
        "report",
        new_uuid,
        users["reporter_a"],
        UnsealReason.TAG,
    )
    assert kept.key_id == sealing["keyId"]
    assert kept.envelope == envelope
    assert kept.path == "/api/v1/incidents/"


def test_the_same_undecryptable_report_is_quarantined_once(users, sealing, new_uuid):
    envelope = Sealer(sealing).envelope(report_payload())
    envelope["key_id"] = "0123456789abcdef"
    client = client_as(users["reporter_a"])

    post_sealed(client, new_uuid, envelope)
    response = post_sealed(client, new_uuid, envelope)

    assert response.status_code == 400
    assert QuarantinedSubmission.objects.count() == 1


def test_an_unknown_key_is_quarantined(users, sealing, new_uuid):
    envelope = Sealer(sealing).envelope(report_payload())
    envelope["key_id"] = "0123456789abcdef"

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.json() == {"sealed": [KEPT]}
    assert QuarantinedSubmission.objects.get().reason == UnsealReason.UNKNOWN_KEY


def test_a_missing_private_key_file_is_quarantined(users, sealing, keys_dir, new_uuid):
    envelope = Sealer(sealing).envelope(report_payload())
    (keys_dir / f"{sealing['keyId']}.pem").unlink()

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.json() == {"sealed": [KEPT]}
    assert QuarantinedSubmission.objects.get().reason == UnsealReason.KEY_MISSING
    assert not Incident.objects.exists()


def test_a_key_wrapped_for_another_key_pair_is_quarantined(users, sealing, new_uuid):
    other = sealing_key_rotate()  # the phone's key id, another key pair's wrapping
    envelope = Sealer(sealing).envelope(report_payload())
    envelope["key_id"] = other.key_id

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.json() == {"sealed": [KEPT]}
    assert QuarantinedSubmission.objects.get().reason == UnsealReason.WRAPPED_KEY


@pytest.mark.parametrize("plaintext", [b"not json", b"[1, 2]", b"\xff\xfe", b'{"a": NaN}'])
def test_a_plaintext_that_is_not_a_json_object_is_quarantined(users, sealing, new_uuid, plaintext):
    sealer = Sealer(sealing)
    envelope = sealer.envelope({})
    envelope["iv"], ciphertext = sealer.encrypt(plaintext)
    envelope["ciphertext"] = b64(ciphertext)

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.json() == {"sealed": [KEPT]}
    assert QuarantinedSubmission.objects.get().reason == UnsealReason.PLAINTEXT


def test_a_report_sealed_with_a_rotated_key_still_decrypts(users, sealing, new_uuid):
    envelope = Sealer(sealing).envelope(report_payload())  # queued on the phone before rotation
    new_key = sealing_key_rotate()
    assert new_key.key_id != sealing["keyId"]

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.status_code == 201
    assert Incident.objects.filter(client_uuid=new_uuid).exists()


def good_envelope(sealing) -> dict:
    return Sealer(sealing).envelope(report_payload())


MALFORMED = [
    ("not an object", lambda e: "sealed text"),
    ("a list", lambda e: [e]),
    ("no iv", lambda e: {k: v for k, v in e.items() if k != "iv"}),
    ("no ciphertext", lambda e: {k: v for k, v in e.items() if k != "ciphertext"}),
    ("version 2", lambda e: {**e, "v": 2}),
    ("version true", lambda e: {**e, "v": True}),
    ("version text", lambda e: {**e, "v": "1"}),
    ("key id number", lambda e: {**e, "key_id": 7}),
    ("key id path", lambda e: {**e, "key_id": "../../etc/passwd"}),
    ("key id huge", lambda e: {**e, "key_id": "a" * 5000}),
    ("wrapped key null", lambda e: {**e, "wrapped_key": None}),
    ("wrapped key garbage", lambda e: {**e, "wrapped_key": "!!not base64!!"}),
    ("wrapped key huge", lambda e: {**e, "wrapped_key": "A" * 100_000}),
    ("iv 16 bytes", lambda e: {**e, "iv": b64(b"0" * 16)}),
    ("iv garbage", lambda e: {**e, "iv": "%%%%"}),
    ("iv non-ascii", lambda e: {**e, "iv": "ئئئئ"}),
    ("ciphertext huge", lambda e: {**e, "ciphertext": "A" * 400_000}),
    ("ciphertext shorter than a tag", lambda e: {**e, "ciphertext": b64(b"short")}),
    ("ciphertext object", lambda e: {**e, "ciphertext": {"a": 1}}),
    ("extra member", lambda e: {**e, "aad": "x"}),
]


@pytest.mark.parametrize(("case", "change"), MALFORMED, ids=[case for case, _ in MALFORMED])
def test_a_malformed_envelope_is_a_400_naming_sealed(users, sealing, new_uuid, case, change):
    envelope = change(good_envelope(sealing))

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.status_code == 400, case
    body = response.json()
    assert list(body) == ["sealed"]
    assert isinstance(body["sealed"][0], str)
    assert not Incident.objects.exists()
    assert not QuarantinedSubmission.objects.exists()


def test_a_sealed_report_carries_no_other_outer_fields(users, sealing, new_uuid):
    body = {"client_uuid": str(new_uuid), "sealed": good_envelope(sealing), "description": "x"}

    response = client_as(users["reporter_a"]).post("/api/v1/incidents/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["description"]


def test_a_sealed_form_post_is_a_400_naming_sealed(users, sealing, new_uuid):
    response = client_as(users["reporter_a"]).post(
        "/api/v1/incidents/",
        {"client_uuid": str(new_uuid), "sealed": json.dumps(good_envelope(sealing))},
    )

    assert response.status_code == 400
    assert list(response.json()) == ["sealed"]


def test_plain_submissions_keep_working(users, sealing, new_uuid):
    body = {"client_uuid": str(new_uuid), **report_payload()}

    response = client_as(users["reporter_a"]).post("/api/v1/incidents/", body, format="json")

    assert response.status_code == 201


def test_partners_cannot_send_sealed_reports(users, sealing, new_uuid):
    response = post_sealed(client_as(users["partner"]), new_uuid, good_envelope(sealing))

    assert response.status_code == 403
    assert not QuarantinedSubmission.objects.exists()


def test_the_sealing_key_records_when_it_was_last_used(users, sealing, new_uuid):
    from sealing.models import SealingKey

    post_sealed(client_as(users["reporter_a"]), new_uuid, good_envelope(sealing))

    assert SealingKey.objects.get(key_id=sealing["keyId"]).last_used_at is not None


def test_a_sender_with_too_many_waiting_keeps_the_report_on_the_phone(users, sealing, settings):
    settings.SEALING_QUARANTINE_MAX_PER_USER = 2
    client = client_as(users["reporter_a"])
    answers = []
    for _ in range(3):
        envelope = good_envelope(sealing)
        envelope["key_id"] = "0123456789abcdef"
        answers.append(post_sealed(client, uuid.uuid4(), envelope).json()["sealed"][0])

    assert answers[:2] == [KEPT, KEPT]
    assert answers[2] != KEPT and "keep it on your device" in answers[2]
    assert QuarantinedSubmission.objects.count() == 2


def test_a_private_key_file_of_another_key_is_not_used(users, sealing, keys_dir, new_uuid):
    other = sealing_key_rotate()
    envelope = Sealer(sealing).envelope(report_payload())
    # A mix-up restoring the backup: the other key's PEM under this key's name.
    (keys_dir / f"{other.key_id}.pem").replace(keys_dir / f"{sealing['keyId']}.pem")

    response = post_sealed(client_as(users["reporter_a"]), new_uuid, envelope)

    assert response.json() == {"sealed": [KEPT]}
    assert QuarantinedSubmission.objects.get().reason == UnsealReason.KEY_MISSING
