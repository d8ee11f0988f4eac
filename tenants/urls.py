"""The self-service portal. Its pages live in the "portal" namespace; the invitation link
is `invitation_accept` in the root namespace because services build it for emails."""

from django.urls import include, path

from tenants.views import (
    dashboard,
    invitation_signup,
    invitations,
    landing,
    switch,
    team,
    tenant_settings,
)

portal_patterns = [
    path("", landing.landing_for_anonymous(dashboard.dashboard), name="dashboard"),
    path("team/", team.team, name="team"),
    path("team/invite/", team.invite, name="team_invite"),
    path("team/<int:pk>/role/", team.change_role, name="team_change_role"),
    path("team/<int:pk>/remove/", team.remove_member, name="team_remove"),
    path(
        "team/invitations/<int:pk>/withdraw/",
        team.withdraw_invitation,
        name="team_withdraw_invitation",
    ),
    path("settings/", tenant_settings.tenant_settings, name="settings"),
    path("switch/", switch.switch_tenant, name="switch"),
]

urlpatterns = [
    path("invite/<str:token>/", invitations.accept, name="invitation_accept"),
    path(
        "invite/<str:token>/signup/",
        invitation_signup.invitation_signup,
        name="invitation_signup",
    ),
    path("", include((portal_patterns, "portal"))),
]
