from django.urls import path

from integrations.discord import views

app_name = "discord"

urlpatterns = [
    path("", views.page, name="page"),
    path("disconnect/", views.disconnect, name="disconnect"),
    path("test/", views.send_test, name="test"),
]
