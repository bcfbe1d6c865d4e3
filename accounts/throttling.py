"""Per-key (or per-user) request throttling, shared by every web process through Redis.

The check and the count are one Lua script, so Redis runs them as one step: however many web
processes ask at once, a client gets exactly its rate. A sliding log (a sorted set of the accepted
requests of the last period, stamped with Redis's own clock) gives what DRF's SimpleRateThrottle
promised, at most N requests in any period, without its read-append-write race.
"""

from __future__ import annotations

import logging
import secrets

from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import PartnerApiKey

logger = logging.getLogger(__name__)

# KEYS[1]: the client's sorted set; ARGV: limit, period (microseconds), a unique member.
# Returns 0 when the request is accepted (and counted), else the microseconds until it would be.
SLIDING_LOG_SCRIPT = """
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(period / 1000))
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] == nil then
  return period
end
return math.max(1, tonumber(oldest[2]) + period - now)
"""


class PerClientRateThrottle(SimpleRateThrottle):
    """One bucket per API key, else per user, else per address; answers 429 with Retry-After.

    When the throttle store (Redis) is unreachable requests are let through (and it is logged): a
    broker outage must not stop reports from being submitted.
    """

    scope = "client"
    cache_alias = "throttle"

    def __init__(self):
        super().__init__()
        self._wait: float | None = None

    def get_ident(self, request) -> str:
        """The peer's address only: X-Forwarded-For is the caller's to write, so a throttle
        trusting it would give every forged value a bucket of its own. Behind a reverse proxy,
        REMOTE_ADDR must be the client's (gunicorn --forwarded-allow-ips), as for the lockout."""
        return request.META.get("REMOTE_ADDR", "")

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, PartnerApiKey):
            ident = f"key:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        try:
            wait_us = self._hit(key)
        except RedisError:
            logger.warning("throttle store unavailable; request let through", exc_info=True)
            return True
        self._wait = wait_us / 1_000_000 if wait_us else None
        return not wait_us

    def wait(self) -> float | None:
        return self._wait

    def _hit(self, key: str) -> int:
        """Run the script on the throttle cache's Redis (its LOCATION, timeouts and key prefix,
        so the keys stay under `throttle:`). Returns 0 or the microseconds to wait."""
        cache = caches[self.cache_alias]
        redis_key = cache.make_and_validate_key(key)
        # Django's RedisCache has no public way to its client; its pool is reused this way.
        client = cache._cache.get_client(redis_key, write=True)
        script = client.register_script(SLIDING_LOG_SCRIPT)
        return int(
            script(
                keys=[redis_key],
                args=[self.num_requests, self.duration * 1_000_000, secrets.token_hex(8)],
            )
        )
