"""The control plane's platform jobs as django-celery-beat PeriodicTasks (editable in the
admin): the heartbeat dispatcher every second, the run sweep every minute. Agents are not
PeriodicTasks: the dispatcher reads their indexed next_heartbeat_at."""

from django.db import migrations

JOBS = (
    # name, task, every (s), expire_seconds: a tick nobody ran in time is dropped, not piled up
    ("orion: heartbeat dispatcher", "agents.tasks.dispatch_tick", 1, 10),
    ("orion: run sweep", "agents.tasks.runs_sweep", 60, 120),
)


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, expire in JOBS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="seconds")
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "enabled": True,
                "queue": "default",
                "expire_seconds": expire,
            },
        )


def unschedule(apps, schema_editor):
    names = [name for name, *_ in JOBS]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0003_control_plane"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
