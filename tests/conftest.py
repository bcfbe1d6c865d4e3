"""Shared fixtures: the real reference data is loaded once per session into the test database."""

import io
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

# Playwright's sync API keeps an asyncio loop on the main thread; the tests' ORM calls are still
# synchronous and safe (Playwright's own documentation for Django gives the same setting).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    """Run tests of the whole stack (browser, worker) last: they commit data for the app's own
    processes to see, which the other tests, each in a rolled-back transaction, must not meet."""
    items.sort(
        key=lambda item: bool(
            item.get_closest_marker("browser") or item.get_closest_marker("celery")
        )
    )


@pytest.fixture(scope="session")
def demo_data(reference_data, django_db_blocker):
    """Synthetic demo data, committed (stack tests only: they run after every other test)."""
    with django_db_blocker.unblock():
        call_command("seed_demo", "--seed", "7", "--incidents", "1500", stdout=io.StringIO())


@pytest.fixture(scope="session")
def reference_data(django_db_setup, django_db_blocker):
    """Zones, routes, corridor, posts, camps and the gazetteer, committed once for the session.

    Loaded outside any test transaction, so it is also visible to live servers and worker processes.
    """
    with django_db_blocker.unblock():
        call_command("load_reference_data", stdout=io.StringIO())
        call_command("sealing_keys", "ensure", stdout=io.StringIO())  # for the app stack too


@pytest.fixture
def reporter(db):
    return get_user_model().objects.create_user(username="reporter-a", password="pw-reporter-a")


@pytest.fixture(scope="session")
def app_stack(reference_data, tmp_path_factory, django_db_blocker):
    """The whole application as `make run` starts it (Procfile: gunicorn, Celery worker and beat),
    pointed at the test database and the test Redis database."""
    from tests.stack import AppStack

    stack = AppStack(log_dir=tmp_path_factory.mktemp("stack"))
    stack.start()
    yield stack
    with django_db_blocker.unblock():
        stack.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (its own browser download does not work here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def admin_credentials(django_db_setup, django_db_blocker):
    """A superuser committed for the session, so that the app stack's processes can see it."""
    with django_db_blocker.unblock():
        user, _ = get_user_model().objects.get_or_create(
            username="stack-admin", defaults={"is_staff": True, "is_superuser": True}
        )
        user.set_password("stack-admin-pw")
        user.save()
    return {"username": "stack-admin", "password": "stack-admin-pw"}


def _user_in(username: str, role: str | None):
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username=username, password=f"pw-{username}")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def users(db):
    """One user per role, and a second reporter (reporters must not see each other's reports)."""
    return {
        "reporter_a": _user_in("rep-a", "reporter"),
        "reporter_b": _user_in("rep-b", "reporter"),
        "analyst": _user_in("analyst", "analyst"),
        "partner": _user_in("partner", "partner"),
        "admin": _user_in("admin-user", "admin"),
        "no_role": _user_in("nobody", None),
    }


@pytest.fixture
def partner_key(users):
    from accounts.services import api_key_create

    _, key = api_key_create(user=users["partner"], name="Partner NGO")
    return key


@pytest.fixture
def revoked_key(users):
    from accounts.services import api_key_create, api_key_revoke

    key_obj, key = api_key_create(user=users["partner"], name="Old key")
    api_key_revoke(key=key_obj)
    return key
