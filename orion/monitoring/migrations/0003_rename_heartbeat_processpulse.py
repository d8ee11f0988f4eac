"""The process-liveness row is a pulse, not an agent heartbeat: rename the model, its
constraint and the beat task that writes it."""

from django.db import migrations, models

OLD_TASK = "orion.monitoring.tasks.worker_heartbeat"
NEW_TASK = "orion.monitoring.tasks.worker_pulse"


def rename_task(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=OLD_TASK).update(task=NEW_TASK, name="orion: worker pulse")


def unrename_task(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=NEW_TASK).update(task=OLD_TASK, name="orion: worker heartbeat")


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0002_heartbeat_schedule")]

    operations = [
        migrations.RemoveConstraint(model_name="heartbeat", name="heartbeat_kind_host_uniq"),
        migrations.RenameModel(old_name="Heartbeat", new_name="ProcessPulse"),
        migrations.AddConstraint(
            model_name="processpulse",
            constraint=models.UniqueConstraint(
                fields=("kind", "hostname"), name="pulse_kind_host_uniq"
            ),
        ),
        migrations.RunPython(rename_task, unrename_task),
    ]
