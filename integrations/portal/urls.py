from django.urls import include, path

from integrations.kinds import kinds_with
from integrations.portal import views

app_name = "integrations"

urlpatterns = [
    path("integrations/", views.integrations_index, name="index"),
    path("integrations/deliveries/", views.delivery_list, name="deliveries"),
    path("integrations/deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    *(
        path(f"integrations/{kind}/", include(f"integrations.{kind}.urls"))
        for kind in kinds_with("urls")
    ),
]
