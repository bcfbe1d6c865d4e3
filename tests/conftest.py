"""Shared fixtures: the real reference data is loaded once per session into the test database."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command


@pytest.fixture(scope="session")
def reference_data(django_db_setup, django_db_blocker):
    """Zones, routes, corridor, posts, camps and the gazetteer, committed once for the session.

    Loaded outside any test transaction, so it is also visible to live servers and worker processes.
    """
    with django_db_blocker.unblock():
        call_command("load_reference_data", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def reporter(db):
    return get_user_model().objects.create_user(username="reporter-a", password="pw-reporter-a")
