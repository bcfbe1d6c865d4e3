"""Incident writes through the ORM (services, admin) kick the statistics task after commit.

The outbox itself is filled by database triggers, so writes that bypass the ORM are never lost;
the beat reconciler covers them.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from incidents.models import Incident
from stats.scheduling import stats_kick


@receiver(post_save, sender=Incident, dispatch_uid="stats_kick_on_save")
@receiver(post_delete, sender=Incident, dispatch_uid="stats_kick_on_delete")
def kick_stats(sender, **kwargs) -> None:
    stats_kick()
