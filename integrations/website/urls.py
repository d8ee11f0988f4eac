from django.urls import path

from integrations.website import views

app_name = "website"

urlpatterns = [
    path("", views.website_settings, name="settings"),
    path("disconnect/", views.website_disconnect, name="disconnect"),
    path("check/", views.website_check_now, name="check"),
]
