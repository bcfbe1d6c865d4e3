"""Seed the ACLED event types and sub-event types (incidents.taxonomy)."""

from django.db import migrations


def seed(apps, schema_editor):
    from incidents.taxonomy import ACLED_TAXONOMY, slug_for

    EventType = apps.get_model("incidents", "EventType")
    SubEventType = apps.get_model("incidents", "SubEventType")
    for type_position, (type_name, disorder, sub_types) in enumerate(ACLED_TAXONOMY):
        event_type, _ = EventType.objects.update_or_create(
            slug=slug_for(type_name),
            defaults={"name": type_name, "disorder_type": disorder, "position": type_position},
        )
        for sub_position, (sub_name, sub_disorder) in enumerate(sub_types):
            SubEventType.objects.update_or_create(
                slug=slug_for(sub_name),
                defaults={
                    "name": sub_name,
                    "event_type": event_type,
                    "disorder_type": sub_disorder,
                    "position": sub_position,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
