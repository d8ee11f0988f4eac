from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from orion.branding import brand_admin, favicon
from orion.monitoring.views import healthz, readyz

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
    path("", include("agents.portal.urls")),
    path("", include("billing.portal.urls")),
    path("", include("tenants.urls")),
]
