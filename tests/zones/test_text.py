import pytest

from zones.text import normalize_name


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Ma'arrat al-Nu'man", "maarrat alnuman"),
        ("‘Abţīn", "abtin"),
        ("أريحا", "اريحا"),
        ("إدلب", "ادلب"),
        ("مَعَرَّة", "معره"),
        ("  Kafr   Nubl ", "kafr nubl"),
    ],
)
def test_names_fold_to_a_search_key(raw, key):
    assert normalize_name(raw) == key
