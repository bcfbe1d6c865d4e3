from django.core.cache import cache

from accounts.roles import Role, role_of
from incidents.models import Incident

SYNTHETIC_CACHE_KEY = "monitoring:has-synthetic-data"


def synthetic_data(request):
    """Tell every page whether synthetic demo data is loaded, so the UI can say so plainly."""
    has_synthetic = cache.get(SYNTHETIC_CACHE_KEY)
    if has_synthetic is None:
        has_synthetic = Incident.objects.synthetic().exists()
        cache.set(SYNTHETIC_CACHE_KEY, has_synthetic, 60)
    return {"HAS_SYNTHETIC_DATA": has_synthetic}


def navigation(request):
    """The signed-in user's role, for navigation and for pages that differ by role."""
    role = role_of(getattr(request, "user", None))
    return {
        "user_role": role.value if role else "",
        "can_report": role in (Role.REPORTER, Role.ANALYST, Role.ADMIN),
        "can_review": role in (Role.ANALYST, Role.ADMIN),
    }
