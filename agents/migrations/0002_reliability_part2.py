import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(
            model_name="provider", old_name="read_timeout_s", new_name="attempt_timeout_s"
        ),
        migrations.AlterField(
            model_name="provider",
            name="attempt_timeout_s",
            field=models.FloatField(
                default=60.0,
                help_text="longest one request may take (connect, send, wait for the answer)",
                validators=[
                    django.core.validators.MinValueValidator(1.0),
                    django.core.validators.MaxValueValidator(600.0),
                ],
                verbose_name="per-attempt timeout (s)",
            ),
        ),
        migrations.AlterField(
            model_name="provider",
            name="connect_timeout_s",
            field=models.FloatField(
                default=5.0,
                validators=[
                    django.core.validators.MinValueValidator(0.1),
                    django.core.validators.MaxValueValidator(60.0),
                ],
            ),
        ),
        migrations.AddField(
            model_name="provider",
            name="retry_attempts",
            field=models.PositiveSmallIntegerField(
                default=3,
                help_text="tries of one key on a retryable error (3 = one try + two retries)",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(10),
                ],
                verbose_name="tries per key",
            ),
        ),
        migrations.AddField(
            model_name="provider",
            name="retry_floor_s",
            field=models.FloatField(
                default=0.3,
                help_text="first backoff delay; doubles per retry, with 10% jitter",
                validators=[
                    django.core.validators.MinValueValidator(0.05),
                    django.core.validators.MaxValueValidator(60.0),
                ],
                verbose_name="backoff floor (s)",
            ),
        ),
        migrations.AddField(
            model_name="provider",
            name="retry_cap_s",
            field=models.FloatField(
                default=30.0,
                help_text="longest backoff delay",
                validators=[
                    django.core.validators.MinValueValidator(0.05),
                    django.core.validators.MaxValueValidator(300.0),
                ],
                verbose_name="backoff cap (s)",
            ),
        ),
        migrations.RenameField(
            model_name="profilecooldown", old_name="disable_count", new_name="billing_disable_count"
        ),
        migrations.AddField(
            model_name="profilecooldown",
            name="revoked_disable_count",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
