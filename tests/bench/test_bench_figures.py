"""The code paths of the HTTP and import figures at 10,000 incidents. Correctness only: what each
figure compares must be equal (pages, tiles, imported rows, stored reports), never how fast."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from bench import geojson_bench, import_bench, server, submit_bench, tiles_bench
from incidents.models import Incident
from tests.bench.conftest import SMALL


@pytest.mark.django_db
@pytest.mark.usefixtures("reference_data")
def test_geojson_pages_of_the_api_equal_the_bare_sql_pages(generated):
    boxes = geojson_bench.boxes_draw(count=8, seed=3)
    results = geojson_bench.measure(boxes=boxes, repeats=1)
    assert [r.role for r in results] == ["analyst", "partner"]
    for result in results:
        assert result.mismatches == []
        assert len(result.features) == len(boxes)
        assert len(result.api) == len(result.bare) == len(boxes)
        assert max(result.features) > 0
        # Never more than a page, and the whole box when it fits on one.
        for features, matching in zip(result.features, result.matching, strict=True):
            assert features == min(matching, geojson_bench.MAX_PAGE_SIZE)


@pytest.mark.django_db
@pytest.mark.usefixtures("reference_data")
def test_geojson_check_sees_a_page_that_differs(generated):
    box = geojson_bench.boxes_draw(count=1, seed=4)[0]
    with connection.cursor() as cursor:
        page = geojson_bench.bare_page(cursor, "analyst", box, 50)
        fewer = geojson_bench.bare_page(cursor, "analyst", box, 49)
    assert geojson_bench.pages_compare(page, page) is None
    assert "ids differ" in geojson_bench.pages_compare(page, fewer)


@pytest.mark.django_db
@pytest.mark.usefixtures("reference_data")
def test_tiles_of_the_api_equal_the_bare_st_asmvt_tiles(generated):
    tiles = tiles_bench.tiles_draw(count=40, seed=3)
    assert len({tile.z for tile in tiles}) >= 5
    results = tiles_bench.measure(tiles=tiles, repeats=1)
    assert [r.role for r in results] == ["analyst", "partner"]
    for result in results:
        assert result.mismatches == []
        assert result.byte_equal == len(result.sizes) == len(tiles)
        assert max(result.features) > 0


@pytest.mark.django_db
@pytest.mark.usefixtures("reference_data")
def test_tile_check_decodes_tiles_that_are_not_byte_equal(generated):
    tile = max(tiles_bench.tiles_draw(count=10, seed=3), key=lambda t: -t.z)
    with connection.cursor() as cursor:
        body = tiles_bench.bare_tile(cursor, "analyst", tile)
    features = tiles_bench.tile_features(body)
    assert features
    assert tiles_bench.tiles_compare(body, body) == (True, None)
    assert tiles_bench.tiles_compare(body, b"") == (
        False,
        f"{len(features)} features from the API, 0 from the baseline",
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("reference_data")
def test_the_import_copy_and_bulk_create_write_the_same_rows_and_leave_none(generated, tmp_path):
    path = tmp_path / "acled.csv"
    rows = import_bench.acled_file_write(path, rows=1500, seed=3)
    assert rows == 1500
    result = import_bench.measure(path=path, rows=rows, repeats=1)
    assert result.rejected == 0
    assert result.history_rows == rows
    assert result.consistent
    assert all(
        fingerprints == {next(iter(result.fingerprints["import"]))}
        for fingerprints in result.fingerprints.values()
    )
    assert all(len(seconds) == 1 for seconds in result.seconds.values())
    assert result.left_over == 0
    assert Incident.objects.count() == SMALL


# No django_db mark: the reports must be committed for the web server's processes to see them.
# Sorted last with the other tests of whole processes (tests/conftest.py).
@pytest.mark.celery
@pytest.mark.parametrize("tool", ["python", "wrk"])
def test_every_report_submitted_under_load_is_stored_once(tool, reference_data, django_db_blocker):
    if tool == "wrk" and not submit_bench.wrk_path():
        pytest.skip("wrk is not installed (make bench installs it)")
    with django_db_blocker.unblock():
        bodies = submit_bench.report_bodies(count=50, seed=3)
        before = Incident.all_objects.count()
        try:
            with server.web_server(settings_module="monitoring.settings.test") as web:
                result = submit_bench.measure(
                    web=web, bodies=bodies, seconds=2, repeats=1, connections=4, tool=tool
                )
            assert submit_bench.check_failures(result, connections=4) == []
            assert result.created == result.server_201 > 0
            assert {run.endpoint for run in result.runs} == set(submit_bench.ENDPOINTS)
            assert all(run.requests > 0 for run in result.runs)
            assert Incident.all_objects.count() == before
        finally:
            get_user_model().objects.filter(username=submit_bench.SUBMITTER).delete()
            connection.close()
