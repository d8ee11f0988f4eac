from django.urls import path

from tenants import api_views

urlpatterns = [
    path("tenant/", api_views.CurrentTenantView.as_view(), name="api-tenant"),
    path("team/", api_views.TeamListView.as_view(), name="api-team"),
    path("team/<int:pk>/", api_views.TeamMemberView.as_view(), name="api-team-member"),
    path("audit/", api_views.AuditListView.as_view(), name="api-audit"),
]
