from django.urls import path

from integrations.slack import views

app_name = "slack"

urlpatterns = [
    path("", views.page, name="page"),
    path("disconnect/", views.disconnect, name="disconnect"),
    path("test/", views.send_test, name="test"),
]
