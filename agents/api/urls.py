"""The control-plane API, mounted under /api/v1/."""

from django.urls import path

from agents.api import run_views, runtime_views, views, work_views

urlpatterns = [
    path("agents/", views.AgentListView.as_view(), name="api-agents"),
    path("agents/<int:pk>/", views.AgentDetailView.as_view(), name="api-agent"),
    path("agents/<int:pk>/pause/", views.AgentPauseView.as_view(), name="api-agent-pause"),
    path("agents/<int:pk>/resume/", views.AgentResumeView.as_view(), name="api-agent-resume"),
    path("agents/<int:pk>/run-now/", views.AgentRunNowView.as_view(), name="api-agent-run-now"),
    path("agents/<int:pk>/keys/", views.AgentKeyListView.as_view(), name="api-agent-keys"),
    path(
        "agents/<int:pk>/keys/<int:key_id>/revoke/",
        views.AgentKeyRevokeView.as_view(),
        name="api-agent-key-revoke",
    ),
    path("goals/", views.GoalListView.as_view(), name="api-goals"),
    path("goals/<int:pk>/", views.GoalDetailView.as_view(), name="api-goal"),
    path("tasks/", work_views.TaskListView.as_view(), name="api-tasks"),
    path("tasks/<int:pk>/", work_views.TaskDetailView.as_view(), name="api-task"),
    path(
        "tasks/<int:pk>/checkout/", work_views.TaskCheckoutView.as_view(), name="api-task-checkout"
    ),
    path("tasks/<int:pk>/release/", work_views.TaskReleaseView.as_view(), name="api-task-release"),
    path(
        "tasks/<int:pk>/comments/", work_views.TaskCommentsView.as_view(), name="api-task-comments"
    ),
    path("tasks/<int:pk>/context/", work_views.TaskContextView.as_view(), name="api-task-context"),
    path("runs/", run_views.RunListView.as_view(), name="api-runs"),
    path("runs/<int:pk>/", run_views.RunDetailView.as_view(), name="api-run"),
    path("heartbeats/pause/", views.HeartbeatPauseView.as_view(), name="api-heartbeats-pause"),
    path("heartbeats/resume/", views.HeartbeatResumeView.as_view(), name="api-heartbeats-resume"),
    path("agent/inbox/", runtime_views.InboxView.as_view(), name="api-agent-inbox"),
    path("agent/inbox/ack/", runtime_views.InboxAckView.as_view(), name="api-agent-inbox-ack"),
]
