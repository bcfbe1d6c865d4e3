"""Name normalisation for place search in Arabic and Latin script."""

import re
import unicodedata

# Arabic harakat, tatweel and Quranic marks: users rarely type them; the gazetteer has some.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
    }
)
# Latin transliterations differ in apostrophes and hyphens (Ma'arrat / Maarrat, al-Dana / al Dana).
_LATIN_NOISE = re.compile(r"['‘’`ʿʾ\-]")
_SPACES = re.compile(r"\s+")


def normalize_name(text: str) -> str:
    """Fold a place name to a search key: lower case, no accents, no Arabic marks or variants."""
    text = _ARABIC_MARKS.sub("", text or "").translate(_ARABIC_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = _LATIN_NOISE.sub("", text.casefold())
    return _SPACES.sub(" ", text).strip()


_SEARCH_FOLD = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ئ": "ي", "ؤ": "و", "ة": "ه"}
)
_SEARCH_DROP = re.compile("[\u064b-\u065f\u0670\u0640'‘’`ʿʾ\\-]")


def fold_for_search(text: str) -> str:
    """The Python twin of the SQL search key of incidents (incidents.models._SEARCH_TEXT_SQL)."""
    return _SEARCH_DROP.sub("", (text or "").translate(_SEARCH_FOLD)).lower()
