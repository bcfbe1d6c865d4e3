"""The reliability battery's stack for the tests: a Redis of its own (the Redis scenario kills
it) and the Procfile's processes on it, against the test database."""

import pytest

from reliability.context import Context
from reliability.processes import PrivateRedis
from reliability.stack import ReliabilityStack
from reliability.world import world_clean, world_make
from stats.services import stats_rebuild


@pytest.fixture(scope="module")
def battery(reference_data, django_db_blocker, tmp_path_factory):
    """Everything a scenario needs, for one test module; what the battery wrote is removed."""
    from django.db import connection

    # pytest-django makes the test database only when a collected test asks for one (`db`, or
    # the django_db mark); the battery's tests do not, so run alone they would reach the
    # development database in DATABASE_URL, and write accounts, reports and webhooks there.
    test_name = connection.settings_dict.get("TEST", {}).get("NAME") or ""
    if connection.settings_dict["NAME"] != test_name:
        pytest.fail(
            f"not the test database ({connection.settings_dict['NAME']!r}): run these tests with "
            "one that uses the database, e.g. tests/reliability/test_checks.py"
        )
    with django_db_blocker.unblock():
        redis = PrivateRedis()
        redis.start()
        stack = ReliabilityStack(
            log_dir=tmp_path_factory.mktemp("reliability"), redis_url=redis.url
        )
        try:
            stack.start()
            world = world_make(stack.base_url)
            yield Context(stack=stack, redis=redis, world=world, seed=7)
            world_clean(world)
            stats_rebuild()
        finally:
            stack.stop()
            redis.stop()
