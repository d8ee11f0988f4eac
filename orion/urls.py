from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from orion.branding import brand_admin, favicon
from orion.monitoring.views import healthz, readyz
from tenants.api_conventions import api_not_found

brand_admin()

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("tenants.api_urls")),
    path("api/v1/", include("agents.api.urls")),
    path("api/v1/", include("billing.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    re_path(r"^api/", api_not_found),
    path("", include("agents.portal.urls")),
    path("", include("billing.portal.urls")),
    path("", include("integrations.portal.urls")),
    path("", include("tenants.urls")),
]
