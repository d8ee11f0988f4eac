from django.urls import path

from billing.portal import views

app_name = "billing"

urlpatterns = [path("billing/", views.budget_page, name="budget")]
