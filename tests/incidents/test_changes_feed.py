"""The changes feed names the original of a merged report only to readers who may see it."""

import pytest

from incidents.models import ReviewStatus
from incidents.services import incident_review
from tests.factories import ARIHA, ATMEH
from tests.incidents.test_api import client_for, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def _merged_entry(client, incident) -> dict:
    entries = client.get("/api/v1/incidents/changes/?page_size=1000").json()["results"]
    (entry,) = [entry for entry in entries if entry["id"] == str(incident.client_uuid)]
    assert entry["change"] == "merged"
    return entry


@pytest.fixture
def merged_into_unverified(users):
    """A verified report, later found to duplicate a report that is not verified (yet)."""
    original = submit(users["reporter_b"], ATMEH, place_name="Atmeh")
    copy = submit(users["reporter_a"], ARIHA, place_name="Ariha")
    incident_review(incident=copy, reviewer=users["analyst"], status=ReviewStatus.VERIFIED)
    incident_review(
        incident=copy,
        reviewer=users["analyst"],
        status=ReviewStatus.DUPLICATE,
        duplicate_of=original,
    )
    return {"original": original, "copy": copy}


def test_a_partner_does_not_learn_the_id_of_an_unverified_original(
    users, partner_key, merged_into_unverified
):
    client = client_for("partner_key", users, partner_key)
    response = client.get("/api/v1/incidents/changes/?page_size=1000")

    entry = _merged_entry(client, merged_into_unverified["copy"])
    assert entry["merged_into"] is None and entry["record"] is None
    assert str(merged_into_unverified["original"].client_uuid) not in response.content.decode()


def test_a_partner_sees_the_original_once_it_is_verified(
    users, partner_key, merged_into_unverified
):
    original = merged_into_unverified["original"]
    incident_review(incident=original, reviewer=users["analyst"], status=ReviewStatus.VERIFIED)

    entry = _merged_entry(
        client_for("partner_key", users, partner_key), merged_into_unverified["copy"]
    )
    assert entry["merged_into"] == str(original.client_uuid)


@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_staff_always_see_what_a_report_was_merged_into(users, merged_into_unverified, who):
    entry = _merged_entry(client_for(who, users), merged_into_unverified["copy"])
    assert entry["merged_into"] == str(merged_into_unverified["original"].client_uuid)
    assert entry["record"]["duplicate_of"] == entry["merged_into"]


def test_the_originals_are_checked_in_the_same_query_whatever_the_merges(
    users, partner_key, merged_into_unverified, django_assert_max_num_queries
):
    client = client_for("partner_key", users, partner_key)
    client.get("/api/v1/incidents/changes/")  # the key's first use records it
    for _ in range(5):
        original = submit(users["reporter_b"], ATMEH)
        copy = submit(users["reporter_a"], ARIHA)
        incident_review(incident=copy, reviewer=users["analyst"], status=ReviewStatus.VERIFIED)
        incident_review(
            incident=copy,
            reviewer=users["analyst"],
            status=ReviewStatus.DUPLICATE,
            duplicate_of=original,
        )
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/incidents/changes/").status_code == 200
