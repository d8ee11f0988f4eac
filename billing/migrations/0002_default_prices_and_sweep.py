"""Default prices (USD per million tokens: input, output, cached input; list prices of
late 2025, editable in the admin) and the budgets sweep as a PeriodicTask."""

from decimal import Decimal

from django.db import migrations

PRICES = (
    # model, input, output, cached input  (provider empty: any provider serving it)
    ("glm-4.7", "0.60", "2.20", "0.11"),
    ("glm-4.6", "0.60", "2.20", "0.11"),
    ("gemini-2.5-flash-lite", "0.10", "0.40", "0.025"),
    ("gemini-flash-lite-latest", "0.10", "0.40", "0.025"),
    ("gemini-2.5-flash", "0.30", "2.50", "0.075"),
    ("gemini-2.5-pro", "1.25", "10.00", "0.31"),
    ("claude-sonnet-4-5", "3.00", "15.00", "0.30"),
    ("claude-sonnet-4-5-20250929", "3.00", "15.00", "0.30"),
    ("claude-sonnet-4-20250514", "3.00", "15.00", "0.30"),
    ("claude-haiku-4-5", "1.00", "5.00", "0.10"),
    ("claude-opus-4-1", "15.00", "75.00", "1.50"),
    ("gpt-5", "1.25", "10.00", "0.125"),
    ("gpt-5-mini", "0.25", "2.00", "0.025"),
    ("gpt-4.1", "2.00", "8.00", "0.50"),
    ("gpt-4.1-mini", "0.40", "1.60", "0.10"),
    ("gpt-4o", "2.50", "10.00", "1.25"),
    ("gpt-4o-mini", "0.15", "0.60", "0.075"),
    # the sandbox model server of `make run`: small but not free, so budgets show work
    ("sandbox-large", "0.50", "1.50", "0.05"),
    ("sandbox-small", "0.10", "0.30", "0.01"),
)
LOCAL = ("llama3.1:8b", "llama3.2:3b", "qwen2.5:7b", "mistral:7b")  # Ollama: our hardware
SWEEP = ("orion: budgets sweep", "billing.tasks.budgets_sweep", 60, 120)


def seed(apps, schema_editor):
    ModelPrice = apps.get_model("billing", "ModelPrice")
    for model, inp, out, cached in PRICES:
        ModelPrice.objects.get_or_create(
            provider="",
            model=model,
            defaults={
                "input_usd_per_mtok": Decimal(inp),
                "output_usd_per_mtok": Decimal(out),
                "cached_input_usd_per_mtok": Decimal(cached),
            },
        )
    zero = Decimal(0)
    for model in LOCAL:
        ModelPrice.objects.get_or_create(
            provider="",
            model=model,
            defaults={
                "input_usd_per_mtok": zero,
                "output_usd_per_mtok": zero,
                "cached_input_usd_per_mtok": zero,
                "local": True,
            },
        )
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, every, expire = SWEEP
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


def unseed(apps, schema_editor):
    models = [row[0] for row in PRICES] + list(LOCAL)
    apps.get_model("billing", "ModelPrice").objects.filter(provider="", model__in=models).delete()
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_budgets_usage_prices"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
