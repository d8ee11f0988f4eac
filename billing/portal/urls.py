from django.urls import path

from billing import webhooks
from billing.portal import account, usage, views

app_name = "billing"

urlpatterns = [
    path("billing/", views.budget_page, name="budget"),
    path("billing/usage/", usage.usage_page, name="usage"),
    path("billing/usage.csv", usage.usage_csv, name="usage_csv"),
    path("billing/plan/", account.account_page, name="account"),
    path("billing/plan/subscribe/", account.checkout, name="checkout"),
    path("billing/plan/manage/", account.customer_portal, name="customer_portal"),
    path("billing/plan/report-time/", account.report_time, name="report_time"),
    path("billing/stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
]
