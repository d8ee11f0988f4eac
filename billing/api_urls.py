from django.urls import path

from billing import api

urlpatterns = [
    path("billing/budget/", api.BudgetView.as_view(), name="api-billing-budget"),
    path("billing/usage/", api.UsageDayView.as_view(), name="api-billing-usage"),
]
