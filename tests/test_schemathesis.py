"""Schemathesis against the OpenAPI schema, for the reporter, analyst and partner roles.

It runs against the whole stack as `make run` starts it (tests/stack.py) with an API key per role,
and fails on any server error or any response that breaks the schema.
"""

import subprocess
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.celery  # needs the app stack


@pytest.fixture(scope="session")
def role_keys(django_db_blocker, reference_data):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.services import api_key_create

    keys = {}
    with django_db_blocker.unblock():
        for role in ("reporter", "analyst", "partner"):
            user, _ = get_user_model().objects.get_or_create(username=f"schemathesis-{role}")
            user.groups.add(Group.objects.get(name=role))
            _, keys[role] = api_key_create(user=user, name=f"schemathesis {role}")
    return keys


@pytest.mark.parametrize("role", ["reporter", "analyst", "partner"])
def test_the_api_keeps_its_schema(app_stack, role_keys, role, tmp_path):
    command = [
        str(Path(settings.BASE_DIR) / ".venv/bin/schemathesis"),
        "run",
        f"{app_stack.base_url}/api/schema/",
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--header",
        f"Authorization: Api-Key {role_keys[role]}",
        "--max-examples",
        "25",
        "--seed",
        "2020",
        # One worker: with several, hypothesis's source inspection from threads tripped CPython
        # 3.11's AST recursion check ("AST constructor recursion depth mismatch").
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
