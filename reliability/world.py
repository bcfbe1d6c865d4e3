"""Who and what the battery works with: one account per role (with an API key and, on demand, a
signed-in session), real places inside the monitored area, and report bodies.

Every report the battery sends carries the run's marker in its description (`[rel-<hex>:scenario]`),
so the checks find the battery's rows in the database without trusting the API.
"""

from __future__ import annotations

import datetime
import random
import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from accounts.services import api_key_create, api_key_revoke
from reliability.client import Client

# The roles of the access matrix: API callers and page visitors.
ROLES = (
    "anonymous",
    "no_role",
    "reporter_a",
    "reporter_b",
    "analyst",
    "partner",
    "revoked_key",
    "admin",
)
GROUP_OF = {
    "reporter_a": "reporter",
    "reporter_b": "reporter",
    "analyst": "analyst",
    "partner": "partner",
    "admin": "admin",
    "no_role": None,
}
GRID = 0.05

# Places at least this far (degrees, on each axis) from the nearest 0.05 degree grid node, so an
# exact location can never be mistaken for its snapped one.
OFF_GRID = 0.008

# Gazetteer places inside a sub-district and a governorate (a report there must be accepted; the
# few that fall in a sliver between the two layers are bad_input's "border places").
PLACES_SQL = """
SELECT l.name_en, ST_X(l.location), ST_Y(l.location)
FROM zones_locality l
WHERE EXISTS (
    SELECT 1 FROM zones_zone z
    WHERE z.kind = 'subdistrict' AND ST_Covers(z.geom, l.location)
)
  AND EXISTS (
    SELECT 1 FROM zones_zone z
    WHERE z.kind = 'governorate' AND ST_Covers(z.geom, l.location)
)
  AND abs(ST_X(l.location) - round(ST_X(l.location) / %(grid)s) * %(grid)s) >= %(off)s
  AND abs(ST_Y(l.location) - round(ST_Y(l.location) / %(grid)s) * %(grid)s) >= %(off)s
ORDER BY l.wof_id
"""


@dataclass(frozen=True)
class Place:
    name: str
    lon: float
    lat: float


@dataclass
class Actor:
    """One caller: `api` carries its API key (none for anonymous), `web` its signed-in session."""

    role: str
    api: Client
    web: Client
    user: object | None = None
    password: str | None = None

    @property
    def username(self) -> str | None:
        return self.user.get_username() if self.user is not None else None


@dataclass
class World:
    base_url: str
    marker: str
    actors: dict[str, Actor]
    places: list[Place]
    sub_types: list[str]
    users: list = field(default_factory=list)
    cleanups: list = field(default_factory=list)  # undo what else the battery wrote
    _pool: list[Actor] = field(default_factory=list)

    def tag(self, scenario: str) -> str:
        return f"[{self.marker}:{scenario}]"

    def reporters(self, count: int) -> list[Actor]:
        """Field reporters for load runs (made once, then reused)."""
        while len(self._pool) < count:
            self._pool.append(self._actor(f"reporter_{len(self._pool) + 1}", "reporter"))
        return self._pool[:count]

    def _actor(self, role: str, group: str | None) -> Actor:
        username = f"{self.marker}-{role}"
        password = f"pw-{uuid.uuid4().hex}"
        user = get_user_model().objects.create_user(username=username, password=password)
        if group:
            user.groups.add(Group.objects.get(name=group))
        self.users.append(user)
        _, key = api_key_create(user=user, name=f"reliability {role}")
        return Actor(
            role=role,
            api=Client(self.base_url, api_key=key, name=role),
            web=Client(self.base_url, name=role),
            user=user,
            password=password,
        )

    def sign_in(self) -> None:
        """Signed-in sessions for the page checks, through the site's sign-in form."""
        for actor in self.actors.values():
            if actor.password and "sessionid" not in actor.web.cookies:
                actor.web.sign_in(actor.username, actor.password)

    def report(
        self,
        rng: random.Random,
        *,
        scenario: str,
        place: Place | None = None,
        days_ago: tuple[float, float] = (4, 60),
        **overrides,
    ) -> dict:
        """A valid report body; dated at least four days back, so that no alert rule fires
        (alerts look at the last 72 hours) and the week's trends stay quiet."""
        place = place or rng.choice(self.places)
        when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=rng.uniform(*days_ago))
        body = {
            "client_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "occurred_at": when.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "location": {"type": "Point", "coordinates": [place.lon, place.lat]},
            "place_name": place.name,
            "sub_event_type": rng.choice(self.sub_types),
            "explosions_count": rng.randint(0, 12),
            "killed_civilians": rng.choice([0, 0, 0, 1, 2]),
            "injured_civilians": rng.choice([0, 0, 1, 3]),
            "killed_combatants": rng.choice([0, 0, 1]),
            "description": f"{self.tag(scenario)} SYNTHETIC report from the reliability battery.",
        }
        body.update(overrides)
        return body


def world_make(base_url: str) -> World:
    """Accounts for every role (and a revoked key), the places and the sub-event type codes.
    The marker is new each run, so runs never share names in a database they share."""
    marker = f"rel-{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(PLACES_SQL, {"grid": GRID, "off": OFF_GRID})
        places = [Place(name, lon, lat) for name, lon, lat in cursor.fetchall()]
        cursor.execute("SELECT slug FROM incidents_subeventtype ORDER BY slug")
        sub_types = [slug for (slug,) in cursor.fetchall()]
    world = World(base_url=base_url, marker=marker, actors={}, places=places, sub_types=sub_types)
    for role, group in GROUP_OF.items():
        world.actors[role] = world._actor(role, group)
    anonymous = Client(base_url, name="anonymous")
    world.actors["anonymous"] = Actor(role="anonymous", api=anonymous, web=anonymous)
    key_obj, key = api_key_create(user=world.actors["partner"].user, name="reliability old key")
    api_key_revoke(key=key_obj)
    world.actors["revoked_key"] = Actor(
        role="revoked_key",
        api=Client(base_url, api_key=key, name="revoked_key"),
        web=Client(base_url, name="revoked_key"),
    )
    return world


def world_clean(world: World) -> None:
    """Remove what the battery wrote (for a shared test database): its incidents, with their
    photos' files; the accounts stay (audit events point at them), switched off."""
    from incidents.models import Attachment, Incident

    for cleanup in world.cleanups:
        cleanup()
    mine = Incident.all_objects.filter(reporter__in=world.users)
    for attachment in Attachment.objects.filter(incident__in=mine):
        attachment.file.delete(save=False)
    Incident.all_objects.filter(duplicate_of__in=mine).update(duplicate_of=None)
    mine.update(duplicate_of=None)
    mine.delete()
    get_user_model().objects.filter(pk__in=[user.pk for user in world.users]).update(
        is_active=False
    )
