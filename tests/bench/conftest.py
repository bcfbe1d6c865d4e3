"""The benchmark's data at CI size: 10,000 generated incidents (and 300 patrols) per test."""

import pytest

from monitoring.benchdata import bench_data_generate

SMALL = 10_000


@pytest.fixture
def generated():
    return bench_data_generate(incidents=SMALL, patrols=300, seed=5, batch_rows=4_000)
