from django.core.cache import cache

from incidents.models import Incident

SYNTHETIC_CACHE_KEY = "monitoring:has-synthetic-data"


def synthetic_data(request):
    """Tell every page whether synthetic demo data is loaded, so the UI can say so plainly."""
    has_synthetic = cache.get(SYNTHETIC_CACHE_KEY)
    if has_synthetic is None:
        has_synthetic = Incident.objects.synthetic().exists()
        cache.set(SYNTHETIC_CACHE_KEY, has_synthetic, 60)
    return {"HAS_SYNTHETIC_DATA": has_synthetic}
