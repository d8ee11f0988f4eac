from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from agents.dashboard import agent_card_for
        from agents.models import AuthProfile, ChainCandidate, ModelChain, Provider
        from agents.selectors import chain_cache_clear
        from tenants.dashboard import dashboard_card_register

        dashboard_card_register("agents", agent_card_for)

        from agents.services.metering import on_budget_room
        from billing.signals import budget_room

        budget_room.connect(on_budget_room, dispatch_uid="agents-budget-room")

        def clear(**_: object) -> None:
            chain_cache_clear()

        for model in (Provider, AuthProfile, ModelChain, ChainCandidate):
            post_save.connect(
                clear, sender=model, weak=False, dispatch_uid=f"chain-cache-{model.__name__}"
            )
            post_delete.connect(
                clear, sender=model, weak=False, dispatch_uid=f"chain-cache-del-{model.__name__}"
            )
