from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from billing.models.budgets import MAX_BUDGET_CENTS


class BudgetForm(forms.Form):
    limit_usd = forms.DecimalField(
        label="Monthly budget (USD)",
        min_value=0,
        max_value=MAX_BUDGET_CENTS / 100,
        decimal_places=2,
    )
    soft_pct = forms.IntegerField(label="Warn at (%)", min_value=1, max_value=100, initial=80)


class ReportTimeForm(forms.Form):
    report_time = forms.TimeField(
        label="Send the daily usage report at",
        input_formats=["%H:%M"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        error_messages={"invalid": "Enter a time of day like 20:00 (00:00 to 23:59)."},
    )


class UsageRangeForm(forms.Form):
    """The usage page's and the CSV export's date range (tenant's calendar days). Dates are
    bounded so a range's local midnights never leave what `date` can hold."""

    MAX_DAYS = 366
    OUTSIDE = "use a date from 2000 to 2999."

    DATE = {
        "input_formats": ["%Y-%m-%d"],
        "required": False,
        "error_messages": {"invalid": "use a date like 2026-11-25."},
        "validators": [
            MinValueValidator(date(2000, 1, 1), message=OUTSIDE),
            MaxValueValidator(date(2999, 12, 31), message=OUTSIDE),
        ],
    }

    start = forms.DateField(**DATE)
    end = forms.DateField(**DATE)
