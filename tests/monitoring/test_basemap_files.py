"""An office's PMTiles file served as one of our static files: WhiteNoise answers the range
requests PMTiles readers make, and collectstatic makes no compressed copy (which WhiteNoise would
serve, sliced, to a client that takes gzip)."""

from django.conf import settings
from django.test import Client, override_settings
from whitenoise.compress import Compressor


def test_no_compressed_copy_is_made_of_a_pmtiles_file():
    compressor = Compressor(extensions=settings.WHITENOISE_SKIP_COMPRESS_EXTENSIONS, quiet=True)
    assert not compressor.should_compress("basemap/nw-syria.pmtiles")
    assert compressor.should_compress("js/basemap.js")


def test_a_static_pmtiles_file_answers_range_requests(tmp_path):
    data = bytes(range(256)) * 64
    (tmp_path / "basemap").mkdir()
    (tmp_path / "basemap" / "nw-syria.pmtiles").write_bytes(data)
    with override_settings(STATIC_ROOT=tmp_path):
        client = Client()  # its handler, WhiteNoise included, is built with these settings
        response = client.get(
            "/static/basemap/nw-syria.pmtiles",
            HTTP_RANGE="bytes=127-16383",
            HTTP_ACCEPT_ENCODING="gzip, br",
        )
        assert response.status_code == 206
        assert response["Content-Range"] == f"bytes 127-16383/{len(data)}"
        assert b"".join(response.streaming_content) == data[127:16384]
        assert not response.has_header("Content-Encoding")
