"""Reviewers see a report's photos where they work (the review queue, the review page, the
incident page); the reporter who sent it sees them on its page; partners and other reporters
see none; the attachments API gives each photo's URL, which serves it to those same readers."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from incidents.attachments import attachment_add
from incidents.models import ReviewStatus
from incidents.services import incident_review
from tests.incidents.test_api import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def photo(users):
    incident = submit(users["reporter_a"], place_name="Sarmin")
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 30, 30)).save(buffer, "JPEG")
    upload = SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")
    return attachment_add(incident=incident, upload=upload).attachment


def page(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def img(photo) -> str:
    return f'<img src="/photos/{photo.pk}/" width="40" height="30" loading="lazy"'


def test_the_review_queue_and_page_show_the_photo(users, photo):
    uuid = photo.incident.client_uuid
    assert img(photo) in page(users["analyst"], "/review/")
    review = page(users["analyst"], f"/review/{uuid}/")
    assert img(photo) in review
    assert 'alt="Photo 1 of 1 of this report"' in review


@pytest.mark.parametrize("who", ["analyst", "admin", "reporter_a"])
def test_the_incident_page_shows_the_photo_to_who_may_see_it(users, photo, who):
    assert img(photo) in page(users[who], f"/incidents/{photo.incident.client_uuid}/")


def test_partners_see_no_photo_on_a_verified_report(users, photo):
    incident_review(
        incident=photo.incident, reviewer=users["analyst"], status=ReviewStatus.VERIFIED
    )
    shown = page(users["partner"], f"/incidents/{photo.incident.client_uuid}/")
    assert "/photos/" not in shown


def test_the_attachments_api_gives_the_photo_s_url_that_serves_it(users, photo):
    client = APIClient()
    client.force_authenticate(users["analyst"])
    (listed,) = client.get(f"/api/v1/incidents/{photo.incident.client_uuid}/attachments/").json()
    assert listed["url"] == f"http://testserver/photos/{photo.pk}/"
    viewer = Client()
    viewer.force_login(users["analyst"])
    assert viewer.get(f"/photos/{photo.pk}/")["Content-Type"] == "image/jpeg"
    assert Client().get(f"/photos/{photo.pk}/").status_code == 404
