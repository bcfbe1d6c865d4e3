"""`make run` serves as a deployment does: DEBUG off, the site's own error pages, no URL list."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def _debug_of(settings_module: str, **env) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE")}
    if settings_module:
        clean["DJANGO_SETTINGS_MODULE"] = settings_module
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'monitoring.settings.local'); django.setup(); from django.conf import settings; "
        "print(settings.DEBUG)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_settings_make_run_uses_have_debug_off_by_default():
    # Procfile's gunicorn loads monitoring.wsgi, which defaults to the local settings.
    assert "monitoring.settings.local" in (ROOT / "monitoring" / "wsgi.py").read_text()
    assert _debug_of("") == "False"


def test_debug_is_on_only_when_asked_for():
    assert _debug_of("monitoring.settings.local", DEBUG="1") == "True"
    assert "DEBUG=1" in (ROOT / "Makefile").read_text().split("\ndev:")[1].split("\n\n")[0]


@pytest.mark.django_db
def test_an_unknown_url_gets_the_sites_own_404_page_without_the_url_list():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Page not found</h1>" in page
    assert "There is no page at this address, or you may not see it with this account." in page
    assert "Back to the start page" in page
    assert "api/v1/" not in page  # Django's debug page lists the URL patterns


@pytest.mark.django_db
def test_the_404_page_is_arabic_in_the_arabic_interface():
    client = Client()
    client.cookies["django_language"] = "ar"
    page = client.get("/no-such-page/").content.decode()
    assert 'dir="rtl"' in page
    assert "<h1>تعذر العثور على الصفحة</h1>" in page
    assert "لا توجد صفحة بهذا العنوان، أو لا يسمح لك هذا الحساب برؤيتها." in page
    assert "العودة إلى الصفحة الأولى" in page


@pytest.mark.django_db
def test_a_page_the_role_may_not_open_says_so_with_a_way_back(users):
    client = Client()
    client.force_login(users["partner"])
    response = client.get("/review/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Not allowed</h1>" in page
    assert "Your account may not open this page." in page
    assert 'href="/"' in page
