"""The benchmark's generator and statistics path at 10,000 incidents. Correctness only: the
figures themselves are measured by bench/ (make bench), never asserted on in tests."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from bench import stats_bench
from incidents.models import Incident, ReviewStatus
from monitoring.benchdata import bench_incident_count, bench_patrol_count
from patrols.models import Patrol, PatrolEvent
from tests.bench.conftest import SMALL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

# Incidents whose stored zones are not those their point lies in (sub-district, its district and
# governorate, corridor membership), or that have none.
WRONG_ZONES_SQL = """
SELECT count(*) FROM incidents_incident i
LEFT JOIN zones_zone sd ON sd.id = i.subdistrict_id
LEFT JOIN zones_zone dd ON dd.id = sd.parent_id
WHERE i.subdistrict_id IS NULL OR i.district_id IS NULL OR i.governorate_id IS NULL
   OR NOT ST_Intersects(sd.geom, i.location)
   OR i.district_id <> dd.id OR i.governorate_id <> dd.parent_id
   OR i.in_corridor <> EXISTS (
       SELECT 1 FROM zones_zone c
       WHERE c.kind = 'security_corridor' AND ST_Intersects(c.geom, i.location))
   OR i.distance_to_m4_m IS NULL
"""


def fingerprint() -> list[tuple]:
    return sorted(
        Incident.objects.values_list(
            "occurred_at", "location", "sub_event_type_id", "review_status", "killed_civilians"
        ).order_by()
    )


def test_the_generator_writes_as_many_incidents_and_patrols_as_asked(generated):
    assert generated.incidents == SMALL == bench_incident_count()
    assert Incident.objects.synthetic().count() == SMALL
    assert bench_patrol_count() == 300
    assert Patrol.Status.CUT_SHORT in generated.patrols
    assert PatrolEvent.objects.count() == generated.patrols[Patrol.Status.CUT_SHORT]
    assert not Patrol.objects.filter(track__isnull=True).exclude(status="cancelled").exists()
    # Within the constraints: valid statuses, no duplicates, nothing in the future, unique UUIDs.
    statuses = set(Incident.objects.values_list("review_status", flat=True).distinct())
    assert statuses <= {ReviewStatus.VERIFIED, ReviewStatus.SUBMITTED}.union(
        {ReviewStatus.UNDER_REVIEW, ReviewStatus.REJECTED}
    )
    assert not Incident.objects.filter(occurred_at__gt=timezone.now()).exists()
    assert Incident.objects.values("client_uuid").distinct().count() == SMALL


def test_every_generated_incident_has_the_zones_its_point_lies_in(generated):
    with connection.cursor() as cursor:
        cursor.execute(WRONG_ZONES_SQL)
        assert cursor.fetchone()[0] == 0
    assert generated.without_subdistrict == 0
    assert 0 < generated.in_corridor < SMALL


def test_statistics_equal_a_plain_group_by_after_the_rebuild_and_the_catch_up(generated):
    rebuild = stats_bench.rebuild_measure(repeats=1, warmup=0)
    assert rebuild.mismatches == 0
    assert rebuild.rows == rebuild.bare_rows > 0

    today = timezone.localdate()
    catchup = stats_bench.catchup_measure(
        label="recent",
        first_day=today - datetime.timedelta(days=13),
        last_day=today,
        reports=1000,
        repeats=1,
        seed=5,
        jit_modes=("server",),
    )
    assert catchup.buckets[0] > 0
    assert catchup.rows[0] > 0
    assert catchup.touched_mismatches == 0
    assert catchup.mismatches == 0
    # The reports are deleted afterwards, and the statistics follow.
    assert Incident.objects.count() == SMALL
    assert stats_bench.stats_mismatch_count() == 0


def test_the_same_seed_draws_the_same_incidents_and_remove_takes_them_away():
    call_command(
        "generate_bench_data", "--incidents", "600", "--patrols", "20", stdout=io.StringIO()
    )
    first = fingerprint()
    call_command("generate_bench_data", "--remove", stdout=io.StringIO())
    assert bench_incident_count() == bench_patrol_count() == 0
    call_command(
        "generate_bench_data", "--incidents", "600", "--patrols", "20", stdout=io.StringIO()
    )
    assert len(first) == 600
    assert fingerprint() == first
