"""Photos are served by the authenticated view only: to the reporter who sent the report and to
analysts and admins; everyone else, signed out included, gets 404. The media folder has no URL."""

import importlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.utils import override_settings
from django.urls import clear_url_caches
from PIL import Image

from accounts.models import AuditEvent
from incidents.attachments import attachment_add
from tests.incidents.test_api import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def photo(users):
    incident = submit(users["reporter_a"], place_name="Sarmin")
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 30, 30)).save(buffer, "JPEG")
    upload = SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")
    return attachment_add(incident=incident, upload=upload).attachment


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["reporter_a", "analyst", "admin"])
def test_the_reporter_analysts_and_admins_see_the_photo(users, photo, who):
    response = _client(users[who]).get(f"/photos/{photo.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


@pytest.mark.parametrize("who", [None, "reporter_b", "partner", "no_role"])
def test_everyone_else_gets_404(users, photo, who):
    response = _client(users[who] if who else None).get(f"/photos/{photo.pk}/")
    assert response.status_code == 404


def test_an_analysts_read_of_a_photo_is_audited(users, photo):
    _client(users["analyst"]).get(f"/photos/{photo.pk}/")
    event = AuditEvent.objects.filter(object_type="attachment").get()
    assert event.user == users["analyst"]
    assert event.object_ids == [photo.pk]


@pytest.fixture
def urls_built_with_debug_on():
    """The URLconf as a DEBUG server builds it (it is read once, at start)."""
    import monitoring.urls

    with override_settings(DEBUG=True):
        importlib.reload(monitoring.urls)
        clear_url_caches()
        yield
    importlib.reload(monitoring.urls)
    clear_url_caches()


@pytest.mark.usefixtures("urls_built_with_debug_on")
def test_the_media_folder_is_not_served_even_by_a_debug_server(users, photo):
    for who in (None, "analyst"):
        client = _client(users[who] if who else None)
        assert client.get(f"/media/{photo.file.name}").status_code == 404
