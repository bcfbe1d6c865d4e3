"""Keep stored point-in-zone results true when zones change."""

from django.dispatch import receiver

from incidents.services import incident_zones_assign
from zones.services import zones_changed


@receiver(zones_changed, dispatch_uid="incidents_reassign_zones")
def reassign_incident_zones(sender, **kwargs) -> None:
    incident_zones_assign()
