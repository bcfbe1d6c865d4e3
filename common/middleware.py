"""Responses to a signed-in caller are kept out of every shared cache, and apart per credentials."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

NO_STORE = "private, no-store"
# A response with an ETag may stay in the caller's own cache, but is revalidated every time: the
# answer depends on who asks, and who asks can change between two requests of one browser.
REVALIDATE = "private, no-cache"


class PrivateResponseMiddleware:
    """`Cache-Control: private, no-store` (`private, no-cache` with an ETag) and `Vary:
    Authorization, Cookie` on every response to a request that carries credentials: pages, API,
    tiles and exports alike, so no view has to remember it. Other Vary values are kept.

    Placed before the session and authentication middleware so that it also sees the responses
    they, or anything after them, give without calling the view (a redirect, a lockout).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _carries_credentials(request) and not getattr(response, _SAME_FOR_EVERY_CALLER, False):
            response["Cache-Control"] = REVALIDATE if response.has_header("ETag") else NO_STORE
            patch_vary_headers(response, ("Authorization", "Cookie"))
        return response


_SAME_FOR_EVERY_CALLER = "same_for_every_caller"


def same_for_every_caller(view):
    """For a view whose answers depend on nothing about the caller (public reference data: the
    basemap's tiles): its own Cache-Control stands, with or without credentials. Such a view
    reads neither the user nor the session."""

    @wraps(view)
    def public(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        setattr(response, _SAME_FOR_EVERY_CALLER, True)
        return response

    return public


def _carries_credentials(request: HttpRequest) -> bool:
    """An Authorization header (API keys), a session cookie, or a user signed in by this very
    request. The cookie is read, not the user: DRF replaces request.user with an anonymous one on
    views that authenticate nobody, and a stale cookie only costs a cache miss."""
    if "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES:
        return True
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated
