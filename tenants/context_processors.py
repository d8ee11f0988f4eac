from django.http import HttpRequest


def tenant(request: HttpRequest) -> dict:
    return {
        "tenant": getattr(request, "tenant", None),
        "membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
    }
