import io

import pytest
from django.core.management import CommandError, call_command

from camps.models import CampPopulation
from incidents.models import Incident, ReviewStatus
from patrols.models import Patrol, PatrolEvent, Route
from zones.models import Locality

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

SMALL = 300


def seed(seed: int = 1, incidents: int = SMALL, *args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--seed", str(seed), "--incidents", str(incidents), *args, stdout=out)
    return out.getvalue()


def incident_fingerprint() -> list[tuple]:
    rows = Incident.objects.synthetic().values_list(
        "occurred_at", "location", "sub_event_type__slug", "review_status", "client_uuid"
    )
    return sorted(
        (at.isoformat(), loc.wkt, slug, status, str(u)) for at, loc, slug, status, u in rows
    )


def patrol_fingerprint() -> list[tuple]:
    rows = Patrol.objects.filter(is_synthetic=True).values_list(
        "date", "forces", "status", "planned_start", "actual_start", "actual_end", "track"
    )
    return sorted(
        (day, forces, status, planned, start, end, track.wkt if track else None)
        for day, forces, status, planned, start, end, track in rows
    )


def camp_fingerprint() -> list[tuple]:
    rows = CampPopulation.objects.filter(is_synthetic=True).values_list(
        "camp__site_id", "date", "individuals"
    )
    return sorted(rows)


def test_the_same_seed_gives_the_same_data():
    seed(7)
    first = (incident_fingerprint(), patrol_fingerprint(), camp_fingerprint())
    seed(7)
    second = (incident_fingerprint(), patrol_fingerprint(), camp_fingerprint())
    assert len(first[0]) == SMALL
    assert first == second


def test_a_different_seed_gives_different_data():
    seed(7)
    first = (incident_fingerprint(), patrol_fingerprint(), camp_fingerprint())
    seed(8)
    second = (incident_fingerprint(), patrol_fingerprint(), camp_fingerprint())
    assert first[0] != second[0]
    assert first[1] != second[1]
    assert first[2] != second[2]


def test_running_twice_does_not_duplicate():
    seed(3)
    counts = (
        Incident.objects.count(),
        Patrol.objects.count(),
        PatrolEvent.objects.count(),
        CampPopulation.objects.count(),
    )
    seed(3)
    assert counts == (
        Incident.objects.count(),
        Patrol.objects.count(),
        PatrolEvent.objects.count(),
        CampPopulation.objects.count(),
    )
    assert Incident.objects.count() == SMALL


def test_every_seeded_record_is_marked_synthetic():
    before = {
        model: set(model.objects.values_list("pk", flat=True))
        for model in (Incident, Patrol, CampPopulation)
    }
    output = seed(2)
    for model, old in before.items():
        new = model.objects.exclude(pk__in=old)
        assert new.exists()
        assert not new.filter(is_synthetic=False).exists()
    assert "SYNTHETIC" in output
    assert not Incident.objects.synthetic().exclude(description__startswith="[SYNTHETIC] ").exists()
    assert (
        not Patrol.objects.filter(is_synthetic=True)
        .exclude(notes__startswith="[SYNTHETIC] ")
        .exists()
    )


def test_real_camp_population_figures_are_kept():
    real = list(CampPopulation.objects.filter(is_synthetic=False).values_list("pk", "individuals"))
    seed(4)
    assert real
    after = CampPopulation.objects.filter(is_synthetic=False).values_list("pk", "individuals")
    assert sorted(after) == sorted(real)
    # One row a month for 2020-2021 for each camp with a real figure: 24 with the real one.
    for camp_id in {row.camp_id for row in CampPopulation.objects.filter(is_synthetic=False)}:
        assert (
            CampPopulation.objects.filter(camp_id=camp_id, date__year__in=[2020, 2021]).count()
            == 24
        )


def test_every_incident_gets_its_subdistrict():
    seed(5)
    assert not Incident.objects.synthetic().filter(subdistrict__isnull=True).exists()
    assert Incident.objects.synthetic().filter(in_corridor=True).exists()


def test_incidents_lie_within_1_5_km_of_their_locality():
    seed(5)
    localities = dict(Locality.objects.values_list("pk", "location"))
    for locality_id, location in Incident.objects.synthetic().values_list("locality", "location"):
        # Degrees to metres at 36 N, generously: 1 degree of longitude is ~90 km there.
        assert location.distance(localities[locality_id]) * 90_000 < 1_500


def test_some_patrols_are_cut_short_with_a_track_shorter_than_the_route():
    seed(6)
    route = Route.objects.get(slug="m4-patrol")
    cut_short = Patrol.objects.filter(is_synthetic=True).cut_short()
    assert cut_short.exists()
    for patrol in cut_short:
        assert patrol.track.length < route.geom.length * 0.95
        event = patrol.events.get()
        assert event.location.coords == patrol.track.coords[-1]  # where the patrol stopped
        assert patrol.actual_start <= event.occurred_at <= patrol.actual_end
    assert not Patrol.objects.filter(status=Patrol.Status.CANCELLED, track__isnull=False).exists()
    first = Patrol.objects.filter(is_synthetic=True).earliest("date")
    assert str(first.date) == "2020-03-15"
    assert first.status == Patrol.Status.CUT_SHORT


def test_duplicates_point_at_an_earlier_verified_report_of_the_same_type():
    seed(9)
    duplicates = Incident.objects.synthetic().filter(review_status=ReviewStatus.DUPLICATE)
    assert duplicates.exists()
    for duplicate in duplicates.select_related("duplicate_of"):
        original = duplicate.duplicate_of
        assert original.review_status == ReviewStatus.VERIFIED
        assert original.sub_event_type_id == duplicate.sub_event_type_id
        assert original.occurred_at < duplicate.occurred_at


def test_it_refuses_to_run_without_the_patrol_route():
    Route.objects.filter(slug="m4-patrol").delete()
    with pytest.raises(CommandError, match="load_reference_data"):
        seed(1)
    assert not Incident.objects.synthetic().exists()


def test_remove_deletes_only_synthetic_rows():
    real = CampPopulation.objects.filter(is_synthetic=False).count()
    seed(1)
    call_command("seed_demo", "--remove", stdout=io.StringIO())
    assert not Incident.objects.synthetic().exists()
    assert not Patrol.objects.filter(is_synthetic=True).exists()
    assert CampPopulation.objects.count() == real


def test_if_empty_leaves_a_database_with_incidents_alone():
    seed(1)
    before = incident_fingerprint()
    out = io.StringIO()
    call_command("seed_demo", "--seed", "2", "--if-empty", stdout=out)
    assert incident_fingerprint() == before
    assert "no demo data written" in out.getvalue()
