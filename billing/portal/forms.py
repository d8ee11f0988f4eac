from django import forms

from billing.models.budgets import MAX_BUDGET_CENTS


class BudgetForm(forms.Form):
    limit_usd = forms.DecimalField(
        label="Monthly budget (USD)",
        min_value=0,
        max_value=MAX_BUDGET_CENTS / 100,
        decimal_places=2,
    )
    soft_pct = forms.IntegerField(label="Warn at (%)", min_value=1, max_value=100, initial=80)
