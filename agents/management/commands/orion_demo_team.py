"""Give the demo tenant its starter team on the sandbox model (for `make run`).

Creates, once, the rows it owns: the "sandbox" provider (its base URL follows the sandbox
server of this run), two auth profiles with obviously fake keys and the "sandbox" model chain
(sandbox-large, falling back to sandbox-small). The chain becomes the platform default only
when there is none, so providers, keys and chains entered in the admin are never touched,
and the demo team (which follows the platform default) uses real keys once staff make a
real chain the default. Run it again and nothing is duplicated."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from agents.models import Agent, AuthProfile, ChainCandidate, ModelChain, Provider, ProviderKind
from agents.services.starter import starter_team_create
from agents.starter_teams import DEFAULT_TEAM, TEAMS
from tenants.management.commands.orion_demo import OWNER_EMAIL
from tenants.models import Membership, Role, Tenant
from tenants.scope import tenant_scope

SANDBOX = "sandbox"
PRIMARY, FALLBACK = "sandbox-large", "sandbox-small"
# label, key: the sandbox server accepts any key starting "sandbox-".
KEYS = (
    ("sandbox-key-1", "sandbox-key-not-a-secret-1"),
    ("sandbox-key-2", "sandbox-key-not-a-secret-2"),
)
DEFAULT_URL = "http://127.0.0.1:8099/v1"
DEMO_MISSION = "Bake bread people cross town for, and keep Demo Bakery's regulars coming back."


def sandbox_chain_ensure(*, base_url: str) -> ModelChain:
    """The sandbox provider, keys and chain (created once; only the URL follows the server)."""
    provider = Provider.objects.filter(name=SANDBOX).first() or Provider(
        name=SANDBOX, kind=ProviderKind.OPENAI, connect_timeout_s=2.0, attempt_timeout_s=15.0
    )
    if provider.pk is None or provider.base_url != base_url:
        provider.base_url = base_url
        try:
            provider.full_clean()
        except ValidationError as exc:
            raise CommandError(f"sandbox provider: {'; '.join(exc.messages)}") from exc
        provider.save()
    for priority, (label, secret) in enumerate(KEYS):
        AuthProfile.objects.get_or_create(
            provider=provider, label=label, defaults={"secret": secret, "priority": priority}
        )
    chain, created = ModelChain.objects.get_or_create(name=SANDBOX)
    if created or not chain.candidates.exists():
        for position, model in enumerate((PRIMARY, FALLBACK), start=1):
            ChainCandidate.objects.create(
                chain=chain, position=position, provider=provider, model=model
            )
    if not ModelChain.objects.filter(is_default=True).exists():
        chain.is_default = True
        chain.save(update_fields=["is_default"])
    return chain


def demo_tenant() -> Tenant:
    membership = (
        Membership.objects.filter(user__username=OWNER_EMAIL, role=Role.OWNER)
        .select_related("tenant", "user")
        .order_by("id")
        .first()
    )
    if membership is None:
        raise CommandError(f"no demo tenant (owned by {OWNER_EMAIL}): run `orion_demo` first")
    return membership.tenant


class Command(BaseCommand):
    help = "Give the demo tenant a starter team on the sandbox model server (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--sandbox-url",
            default=os.environ.get("ORION_SANDBOX_URL", DEFAULT_URL),
            help=f"the sandbox server's base URL (env ORION_SANDBOX_URL; default {DEFAULT_URL})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = demo_tenant()
        with transaction.atomic():
            chain = sandbox_chain_ensure(base_url=options["sandbox_url"].rstrip("/"))
        owner = Membership.objects.filter(tenant=tenant, role=Role.OWNER).first().user
        keys = [t.key for t in TEAMS[DEFAULT_TEAM].agents]
        # The scope encloses the transaction: the wake-ups run on commit, as the tenant.
        with tenant_scope(tenant), transaction.atomic():
            fresh = not Agent.objects.filter(template__in=keys).exists()
            try:
                agents = starter_team_create(
                    tenant=tenant,
                    actor_user=owner,
                    mission=None if tenant.mission else DEMO_MISSION,
                )
            except ValidationError as exc:
                raise CommandError(f"demo team: {'; '.join(exc.messages)}") from exc
            if fresh:  # the first heartbeats fall due within seconds, the coordinator first
                now = timezone.now()
                for i, agent in enumerate(agents):
                    Agent.objects.filter(pk=agent.pk).update(
                        next_heartbeat_at=now + timedelta(seconds=i)
                    )
        default = ModelChain.objects.filter(is_default=True).first()
        self.stdout.write(
            f"Demo team of {tenant.name}: {', '.join(a.name for a in agents)} "
            f"({'new, first heartbeats due now' if fresh else 'already there'}); "
            f"model chain: {default.name if default else '(none)'}"
            + (" (the sandbox model server)" if default == chain else "")
            + "; runs, calls and failover attempts: /admin/agents/\n"
        )
