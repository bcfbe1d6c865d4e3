"""Where signing in lands: reporters on the report form (what they came for, and the installed
app's start page), everyone else on the map; a `next` page always wins."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "username", "lands_on"),
    [
        ("reporter_a", "rep-a", "/report/"),
        ("analyst", "analyst", "/"),
        ("partner", "partner", "/"),
        ("admin", "admin-user", "/"),
    ],
)
def test_each_role_lands_where_its_work_is(users, who, username, lands_on):
    response = Client().post(
        "/accounts/login/", {"username": username, "password": f"pw-{username}"}
    )
    assert response.status_code == 302 and response["Location"] == lands_on


def test_a_next_page_wins_for_reporters_too(users):
    response = Client().post(
        "/accounts/login/?next=/zones/", {"username": "rep-a", "password": "pw-rep-a"}
    )
    assert response["Location"] == "/zones/"
