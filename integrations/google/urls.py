from django.urls import path

from integrations.google import views

app_name = "google"

urlpatterns = [
    path("", views.page, name="page"),
    path("connect/<str:product>/", views.connect, name="connect"),
    path("reconnect/", views.reconnect, name="reconnect"),
    path("callback/", views.callback, name="callback"),
    path("disconnect/", views.disconnect, name="disconnect"),
]
