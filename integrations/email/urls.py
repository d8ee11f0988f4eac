from django.urls import path

from integrations.email import views

app_name = "email"

urlpatterns = [
    path("", views.page, name="page"),
    path("disconnect/", views.disconnect, name="disconnect"),
    path("test/", views.send_test, name="test"),
]
