from django.urls import path

from integrations.telegram import views

app_name = "telegram"

urlpatterns = [
    path("", views.page, name="page"),
    path("disconnect/", views.disconnect, name="disconnect"),
    path("test/", views.send_test, name="test"),
]
