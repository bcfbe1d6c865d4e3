"""Zone statistics: triggers fill the outbox, recomputation equals an independent GROUP BY."""

import random

import pytest
from django.contrib.gis.geos import Point

from stats.services import stats_pending_count, stats_rebuild, stats_recompute_pending
from tests.factories import ARIHA, IncidentFactory
from tests.stats.helpers import actual, expected, random_activity

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def test_recomputing_the_outbox_matches_a_plain_group_by(users):
    stats_rebuild()
    random_activity(random.Random(5), reporter=users["reporter_a"], analyst=users["analyst"])
    assert stats_pending_count() > 0
    stats_recompute_pending()
    assert stats_pending_count() == 0
    assert actual() == expected()
    assert len(actual()) > 50


def test_running_twice_changes_nothing(users):
    random_activity(random.Random(6), reporter=users["reporter_a"], analyst=users["analyst"])
    stats_recompute_pending()
    first = actual()
    stats_recompute_pending()
    stats_rebuild()
    assert actual() == first == expected()


def test_editing_only_the_description_queues_nothing(users):
    incident = IncidentFactory(location=Point(*ARIHA, srid=4326))
    stats_recompute_pending()
    incident.description = "more detail"
    incident.save()
    assert stats_pending_count() == 0


def test_a_full_rebuild_matches_a_plain_group_by(users):
    random_activity(random.Random(7), reporter=users["reporter_a"], analyst=users["analyst"])
    stats_rebuild()
    assert stats_pending_count() == 0
    assert actual() == expected()
