"""Per-key (or per-user) request throttling, shared by every web process through Redis."""

from __future__ import annotations

import logging

from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import PartnerApiKey

logger = logging.getLogger(__name__)


class PerClientRateThrottle(SimpleRateThrottle):
    """One bucket per API key, else per user, else per address; answers 429 with Retry-After.

    When the throttle store (Redis) is unreachable requests are let through: a broker outage must
    not stop reports from being submitted.
    """

    scope = "client"

    def __init__(self):
        self.cache = caches["throttle"]
        super().__init__()

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, PartnerApiKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache backend's connection errors vary with the client library
            logger.warning("throttle store unavailable; request let through", exc_info=True)
            return True
