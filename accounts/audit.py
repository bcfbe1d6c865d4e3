"""The one audit hook for every response that carries exact locations (PRODUCT.md, "Do no harm" 4).

Every view in the URLconf says whether it can return exact locations: a class view by its
`exact_locations` attribute (True only through `ExactLocationsMixin`), a function view by the
`@exact_locations` or `@no_exact_locations` decorator. A view that can return them says what it
returned with `exact_read()` (exports with `export_read()`); when the response leaves the view the
hook writes one audit event per read, for readers who see exact locations (exports: for everyone).
A declared view that answers a read without saying what it returned is audited anyway, by its
path alone: a forgotten `exact_read()` loses detail, never the event. The system check
`accounts.E001` (and its test) refuses any URL whose view has not declared, so a new endpoint
cannot forget.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import AuditEvent
from accounts.roles import sees_exact_locations
from accounts.services import audit_request

_READS = "_audited_reads"
_HOOKED = "_exact_locations_audited"
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class _Read:
    action: str
    object_type: str
    object_ids: list = field(default_factory=list)
    detail: dict | None = None
    every_reader: bool = False


def _http_request(request):
    """The Django request under a DRF one: reads recorded in a view reach the hook either way."""
    return getattr(request, "_request", request)


def _record(request, read: _Read) -> None:
    http = _http_request(request)
    reads = http.__dict__.setdefault(_READS, [])
    reads.append(read)


def exact_read(
    request,
    *,
    object_ids: Iterable = (),
    object_type: str = "incident",
    detail: dict | None = None,
) -> None:
    """The response to `request` shows these objects' exact locations (when the reader may see
    them). A read naming nothing and carrying no detail writes nothing: an empty page, a tile
    with no feature."""
    ids = [str(i) if isinstance(i, uuid.UUID) else i for i in object_ids]
    _record(request, _Read(AuditEvent.Action.EXACT_LOCATION_READ, object_type, ids, detail))


def export_read(request, *, detail: dict, object_type: str = "incident") -> None:
    """The response is an export: audited whoever reads it, exact locations or not."""
    _record(request, _Read(AuditEvent.Action.EXPORT, object_type, [], detail, every_reader=True))


def audit_response(request, response) -> None:
    """Write the audit events of a response from a view that can return exact locations."""
    reads = _http_request(request).__dict__.pop(_READS, None)
    if not 200 <= response.status_code < 400:
        return  # an error shows nothing (a 304 does: the reader holds what it confirms)
    staff = sees_exact_locations(request.user)
    if reads is None:
        if staff and request.method in READ_METHODS:
            audit_request(
                request,
                action=AuditEvent.Action.EXACT_LOCATION_READ,
                detail={"recorded": False},
            )
        return
    for read in reads:
        if not (read.every_reader or staff):
            continue
        if read.object_ids or read.detail:
            audit_request(
                request,
                action=read.action,
                object_type=read.object_type,
                object_ids=read.object_ids,
                detail=read.detail,
            )


class ExactLocationsMixin:
    """For API views that can return exact locations: the hook runs on every response."""

    exact_locations = True

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        audit_response(request, response)
        return response


def exact_locations(view):
    """For page views that can show exact locations: the hook runs on every response."""

    @wraps(view)
    def audited(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        audit_response(request, response)
        return response

    audited.exact_locations = True
    setattr(audited, _HOOKED, True)
    return audited


def no_exact_locations(view):
    """For views that never return an exact location (counts, reference data, forms)."""
    view.exact_locations = False
    return view


# The check


def _local_packages() -> set[str]:
    """Top-level packages of this project's apps (third-party views declare nothing)."""
    base = Path(settings.BASE_DIR).resolve()
    packages = set()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if base in path.parents and "site-packages" not in path.parts:
            packages.add(config.name.split(".")[0])
    return packages


def _patterns(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            # The Django admin (admins' tools, with its map widgets) is outside this hook.
            if pattern.namespace != "admin":
                yield from _patterns(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def view_declaration(callback) -> tuple[str, bool | None, bool]:
    """(module, declared exact_locations or None, whether the hook runs) of a URL's view."""
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if "exact_locations" in getattr(callback, "__dict__", {}):
        declared = callback.exact_locations
    else:
        declared = getattr(view_class, "exact_locations", None)
    if view_class is not None and "exact_locations" not in getattr(callback, "__dict__", {}):
        hooked = issubclass(view_class, ExactLocationsMixin)
    else:
        hooked = bool(getattr(callback, _HOOKED, False))
    return (view_class or callback).__module__, declared, hooked


def undeclared_views(urlconf=None, *, packages: set[str] | None = None) -> list[str]:
    """Every project URL (of `packages`, by default this project's apps) whose view does not say
    whether it returns exact locations, or says so without the hook."""
    local = _local_packages() if packages is None else packages
    problems = []
    for route, callback in _patterns(get_resolver(urlconf)):
        module, declared, hooked = view_declaration(callback)
        if module.split(".")[0] not in local:
            continue
        name = f"{module}.{getattr(callback, '__name__', callback)}"
        if declared is None:
            problems.append(f"{route} ({name}): exact_locations is not declared")
        elif declared and not hooked:
            problems.append(f"{route} ({name}): exact_locations without the audit hook")
    return problems


@checks.register(checks.Tags.security, checks.Tags.urls)
def check_exact_location_declarations(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            problem,
            hint="Use accounts.audit.ExactLocationsMixin or @exact_locations (and exact_read) "
            "for a view that can return exact locations; exact_locations = False or "
            "@no_exact_locations otherwise.",
            id="accounts.E001",
        )
        for problem in undeclared_views()
    ]
