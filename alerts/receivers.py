"""A verified incident or a patrol cut short asks a worker to run the rules after commit.

Nothing depends on this kick: the beat sweep runs the same rules every minute over the last day.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from common.scheduling import send_after_commit
from incidents.models import Incident, ReviewStatus
from patrols.models import Patrol


@receiver(post_save, sender=Incident, dispatch_uid="alerts_on_incident")
def incident_saved(sender, instance: Incident, **kwargs) -> None:
    if instance.review_status == ReviewStatus.VERIFIED:
        from alerts.tasks import evaluate_alerts

        send_after_commit(evaluate_alerts)


@receiver(post_save, sender=Patrol, dispatch_uid="alerts_on_patrol")
def patrol_saved(sender, instance: Patrol, **kwargs) -> None:
    if instance.status == Patrol.Status.CUT_SHORT:
        from alerts.tasks import evaluate_alerts

        send_after_commit(evaluate_alerts)
