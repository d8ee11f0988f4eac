"""Schedule the delivery sweep every 15 s in django-celery-beat's database scheduler: it
queues again deliveries the broker lost and sends whose worker died (lease expired)."""

from django.db import migrations

TASK = "integrations.delivery.tasks.deliveries_sweep"
NAME = "integrations: delivery sweep"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={"task": TASK, "interval": every, "enabled": True, "queue": "deliveries"},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_delivery_lease_plain_text"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
