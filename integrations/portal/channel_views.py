"""The pages every messaging kind shares, bound to a kind's form by its views.py: the
channel's page (status, settings, recent deliveries), connect or change, disconnect, and
send a test message. Everyone in the tenant sees the page; owners and admins change things.
Every POST either redirects (done) or re-renders the page with the reason, and a refused
or invalid one writes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from integrations.delivery.policy import channel_policy
from integrations.portal.channel_forms import ChannelForm, TestMessageForm
from integrations.portal.selectors import deliveries_recent
from integrations.portal.services import delivery_send_test
from integrations.selectors import connection_get
from integrations.services.connections import connection_connect, connection_disconnect
from tenants.models import Role
from tenants.views.common import error_text, tenant_required

EMAIL_TEST_LIMIT = 20_000
NOT_ALLOWED = "Only owners and admins can connect, change or test integrations."


@dataclass(frozen=True)
class ChannelPages:
    kind: str
    label: str
    form_class: type[ChannelForm]

    @property
    def text_limit(self) -> int:
        """A test message is one message: the provider's limit (mail has none of its own)."""
        return channel_policy(self.kind).max_chars or EMAIL_TEST_LIMIT

    def _render(
        self,
        request: HttpRequest,
        *,
        form: ChannelForm | None = None,
        test_form: TestMessageForm | None = None,
        status: int = 200,
        error: str = "",
    ) -> HttpResponse:
        tenant_id = request.membership.tenant_id
        connection = connection_get(tenant_id=tenant_id, kind=self.kind)
        context = {
            "kind": self.kind,
            "label": self.label,
            "connection": connection,
            "can_edit": request.membership.at_least(Role.ADMIN),
            "form": form or self.form_class(connection=connection),
            "test_form": test_form or self.test_form(),
            "deliveries": deliveries_recent(tenant_id=tenant_id, kind=self.kind),
            "help_template": f"integrations/{self.kind}/help.html",
            "summary_template": f"integrations/{self.kind}/summary.html",
            "urls": {
                name: reverse(f"integrations:{self.kind}:{name}")
                for name in ("page", "disconnect", "test")
            },
            "error": error,
        }
        return render(request, "integrations/channel.html", context, status=status)

    def test_form(self, data: dict | None = None) -> TestMessageForm:
        return TestMessageForm(data, label=self.label, limit=self.text_limit)

    def _allowed(self, request: HttpRequest) -> bool:
        return request.membership.at_least(Role.ADMIN)

    def page(self, request: HttpRequest) -> HttpResponse:
        """GET shows the channel; POST connects it or replaces its settings."""
        if request.method == "GET":
            return self._render(request)
        if not self._allowed(request):
            return self._render(request, status=403, error=NOT_ALLOWED)
        tenant_id = request.membership.tenant_id
        connection = connection_get(tenant_id=tenant_id, kind=self.kind)
        form = self.form_class(request.POST, connection=connection)
        if not form.is_valid():
            return self._render(
                request, form=form, status=400, error="Nothing was saved: check the form."
            )
        connection_connect(
            tenant_id=tenant_id,
            kind=self.kind,
            config=form.config(),
            secret=form.secret(),
            actor_user=request.user,
        )
        done = "settings saved" if connection else "connected"
        messages.success(request, f"{self.label} {done}.")
        return redirect(f"integrations:{self.kind}:page")

    def disconnect(self, request: HttpRequest) -> HttpResponse:
        """GET asks to confirm; POST deletes the connection and its secret."""
        if not self._allowed(request):
            return self._render(request, status=403, error=NOT_ALLOWED)
        tenant_id = request.membership.tenant_id
        if request.method == "GET":
            if connection_get(tenant_id=tenant_id, kind=self.kind) is None:
                messages.info(request, f"{self.label} is not connected.")
                return redirect(f"integrations:{self.kind}:page")
            context = {"label": self.label, "cancel": reverse(f"integrations:{self.kind}:page")}
            return render(request, "integrations/disconnect_confirm.html", context)
        gone = connection_disconnect(tenant_id=tenant_id, kind=self.kind, actor_user=request.user)
        text = "disconnected; its stored secret is deleted" if gone else "was not connected"
        messages.success(request, f"{self.label} {text}.")
        return redirect("integrations:index")

    def send_test(self, request: HttpRequest) -> HttpResponse:
        if not self._allowed(request):
            return self._render(request, status=403, error=NOT_ALLOWED)
        tenant_id = request.membership.tenant_id
        if connection_get(tenant_id=tenant_id, kind=self.kind) is None:
            return self._render(
                request, status=400, error=f"{self.label} is not connected: connect it first."
            )
        form = self.test_form(request.POST)
        if not form.is_valid():
            return self._render(
                request, test_form=form, status=400, error="Nothing was sent: check the message."
            )
        try:
            delivery = delivery_send_test(  # atomic: a refusal writes nothing
                tenant_id=tenant_id,
                kind=self.kind,
                text=form.cleaned_data["text"],
                nonce=form.cleaned_data["nonce"],
                actor_user=request.user,
            )
        except ValidationError as exc:
            form.add_error("text", error_text(exc))
            return self._render(
                request, test_form=form, status=400, error="Nothing was sent: check the message."
            )
        messages.success(request, "Test message queued: this page follows its delivery.")
        return redirect("integrations:delivery", pk=delivery.pk)

    def urlpatterns(self) -> list[URLPattern]:
        """The kind's URLs (its urls.py sets `app_name` to the kind)."""
        get_or_post = require_http_methods(["GET", "POST"])
        return [
            path("", get_or_post(tenant_required(self.page)), name="page"),
            path("disconnect/", get_or_post(tenant_required(self.disconnect)), name="disconnect"),
            path("test/", require_POST(tenant_required(self.send_test)), name="test"),
        ]
