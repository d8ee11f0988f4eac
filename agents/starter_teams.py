"""Starter teams as data: the agent templates a new company starts with, and the first goals
and tasks that give them work. `agents.services.starter.starter_team_create` instantiates
them through the ordinary services (validated, audited).

Schedules are read in the tenant's time zone. Templates reference each other by `key`
(`reports_to`, a task's `assignee`), never by name, so a person may rename the agents."""

from __future__ import annotations

from dataclasses import dataclass

from agents.models import AgentRole, ScheduleKind, TaskPriority

# The control-plane tools (agents.tools.control); only a coordinator has reports to delegate to.
WORKER_TOOLS = ("list_tasks", "create_task", "update_task", "comment", "ask_approval")
COORDINATOR_TOOLS = (*WORKER_TOOLS, "delegate", "send_team_message", "notify_owner")
# The integrations' tools each role needs. Nothing that speaks for the company on its own:
# no gmail_send and no wordpress_update (a live post); drafts go to a person for approval.
INBOX_TOOLS = (
    *WORKER_TOOLS,
    "gmail_search",
    "gmail_read",
    "gmail_draft",
    "gmail_label",
    "calendar_list_events",
    "calendar_freebusy",
    "calendar_create_event",
)
SITE_TOOLS = (*WORKER_TOOLS, "website_read_page", "wordpress_list", "wordpress_read")
WRITER_TOOLS = (*SITE_TOOLS, "wordpress_draft")


@dataclass(frozen=True)
class AgentTemplate:
    key: str
    name: str
    title: str
    role: str
    instructions: str
    schedule_kind: str = ScheduleKind.CRON
    cron: str = ""
    interval_s: int = 3600
    reports_to: str | None = "coordinator"
    allowed_tools: tuple[str, ...] = WORKER_TOOLS

    def values(self) -> dict[str, object]:
        """The `agent_create` fields (reports_to is resolved by the caller)."""
        return {
            "name": self.name,
            "title": self.title,
            "role": self.role,
            "template": self.key,
            "instructions": self.instructions,
            "schedule_kind": self.schedule_kind,
            "cron": self.cron,
            "interval_s": self.interval_s,
            "allowed_tools": list(self.allowed_tools),
        }


@dataclass(frozen=True)
class GoalTemplate:
    key: str
    title: str
    description: str = ""
    parent: str | None = "mission"  # a goal key; the root goal is the mission itself
    owner: str | None = None  # an agent template key


@dataclass(frozen=True)
class TaskTemplate:
    key: str
    title: str
    body: str
    assignee: str  # an agent template key
    goal: str  # a goal key
    priority: int = TaskPriority.NORMAL
    parent: str | None = None  # a task key: a sub-task reports back on its parent


@dataclass(frozen=True)
class StarterTeam:
    key: str
    label: str
    agents: tuple[AgentTemplate, ...]
    goals: tuple[GoalTemplate, ...] = ()
    tasks: tuple[TaskTemplate, ...] = ()
    default_mission_goal: str = "Grow the business"

    def agent(self, key: str) -> AgentTemplate:
        return next(a for a in self.agents if a.key == key)


SMALL_BUSINESS = StarterTeam(
    key="small-business",
    label="Small business starter team",
    agents=(
        AgentTemplate(
            key="coordinator",
            name="Cora",
            title="Coordinator",
            role=AgentRole.COORDINATOR,
            reports_to=None,
            cron="30 7 * * *",  # every morning, before the shop opens
            allowed_tools=COORDINATOR_TOOLS,
            instructions=(
                "You run the team. Every morning read the open tasks, decide what matters "
                "most for the company's goals, give work to the right colleague with "
                "`delegate`, and unblock anyone who is stuck. Ask a person before anything "
                "that costs money or speaks for the company in a new way."
            ),
        ),
        AgentTemplate(
            key="admin",
            name="Iris",
            title="Inbox and admin",
            role=AgentRole.ADMIN,
            schedule_kind=ScheduleKind.INTERVAL,
            interval_s=1800,  # the inbox every half hour
            allowed_tools=INBOX_TOOLS,
            instructions=(
                "You keep the inbox and the calendar in order: sort new mail, draft replies "
                "to customer questions for a person to approve, and note appointments. Never "
                "send anything in the company's name without approval."
            ),
        ),
        AgentTemplate(
            key="website",
            name="Webb",
            title="Website manager",
            role=AgentRole.WEBSITE,
            cron="0 9 * * *",
            allowed_tools=WRITER_TOOLS,
            instructions=(
                "You look after the website: check it is up and fast, that opening hours, "
                "prices and contact details are current, and propose small improvements as "
                "tasks. Report anything broken at once."
            ),
        ),
        AgentTemplate(
            key="marketing",
            name="Maya",
            title="Marketing writer",
            role=AgentRole.MARKETING,
            cron="0 10 * * 1,3,5",
            allowed_tools=WRITER_TOOLS,
            instructions=(
                "You write: social posts, newsletter items and website texts in the "
                "company's voice, short and concrete. Put every draft in review for a "
                "person before it is published."
            ),
        ),
        AgentTemplate(
            key="reporting",
            name="Remy",
            title="Reporting",
            role=AgentRole.REPORTING,
            cron="0 17 * * 5",  # Friday afternoon
            allowed_tools=(*WORKER_TOOLS, "notify_owner"),
            instructions=(
                "Every week you write a short report for the owner: what the team did, what "
                "is waiting for a person, and what is next. Plain words, no jargon."
            ),
        ),
    ),
    goals=(
        GoalTemplate(
            key="customers",
            title="Answer every customer within one working day",
            description="No question left waiting in the inbox.",
            owner="admin",
        ),
        GoalTemplate(
            key="visitors",
            title="Bring more customers through the website",
            description="A current, quick website and a steady rhythm of posts.",
            owner="marketing",
        ),
    ),
    tasks=(
        TaskTemplate(
            key="plan",
            title="Plan the team's first week",
            body="Read the goals and the open tasks, and set the priorities for this week.",
            assignee="coordinator",
            goal="mission",
            priority=TaskPriority.HIGH,
        ),
        TaskTemplate(
            key="inbox",
            title="Sort the inbox and draft replies to open customer questions",
            body="Start with the oldest unanswered question.",
            assignee="admin",
            goal="customers",
            priority=TaskPriority.HIGH,
        ),
        TaskTemplate(
            key="site-check",
            title="Check the website's opening hours and contact page",
            body="Compare them with what the company told us; list anything out of date.",
            assignee="website",
            goal="visitors",
        ),
        TaskTemplate(
            key="first-post",
            title="Draft this week's social post",
            body="One short post about what is new this week, for a person to approve.",
            assignee="marketing",
            goal="visitors",
            parent="plan",
        ),
        TaskTemplate(
            key="first-report",
            title="Write the first weekly report",
            body="What the team set up this week and what is waiting for the owner.",
            assignee="reporting",
            goal="mission",
            priority=TaskPriority.LOW,
        ),
    ),
)

TEAMS: dict[str, StarterTeam] = {SMALL_BUSINESS.key: SMALL_BUSINESS}
DEFAULT_TEAM = SMALL_BUSINESS.key
