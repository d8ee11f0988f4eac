"""The portal's team pages, in the "agents" namespace (included from orion.urls: tenants
may not import agents)."""

from django.urls import path

from agents.portal.views import agent, goals, runs, tasks, team

app_name = "agents"

urlpatterns = [
    path("agents/", team.team, name="team"),
    path("agents/starter/", team.starter_team, name="starter_team"),
    path("agents/<int:pk>/", agent.agent_page, name="agent"),
    path("agents/<int:pk>/edit/", agent.agent_edit, name="agent_edit"),
    path("agents/<int:pk>/pause/", agent.agent_pause_view, name="agent_pause"),
    path("agents/<int:pk>/resume/", agent.agent_resume_view, name="agent_resume"),
    path("agents/<int:pk>/run-now/", agent.agent_run_now_view, name="agent_run_now"),
    path("agents/<int:pk>/progress/", agent.progress, name="agent_progress"),
    path("tasks/", tasks.board, name="board"),
    path("tasks/new/", tasks.task_new, name="task_new"),
    path("tasks/<int:pk>/", tasks.task_page, name="task"),
    path("tasks/<int:pk>/move/", tasks.task_move, name="task_move"),
    path("tasks/<int:pk>/assign/", tasks.task_assign, name="task_assign"),
    path("tasks/<int:pk>/comment/", tasks.task_comment, name="task_comment"),
    path("goals/", goals.goals, name="goals"),
    path("goals/new/", goals.goal_new, name="goal_new"),
    path("runs/<int:pk>/", runs.run_page, name="run"),
]
