"""Tenant-scoped REST endpoints: this month's budget (owners change it) and the daily
usage report's data."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from billing.models import Budget
from billing.models.budgets import MAX_BUDGET_CENTS
from billing.selectors import budget_overview, usage_day
from billing.services.budgets import budget_set
from tenants.api import TenantAPIView
from tenants.models import Role

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


class BudgetSerializer(serializers.Serializer):
    limit_cents = serializers.IntegerField(min_value=0, max_value=MAX_BUDGET_CENTS)
    soft_pct = serializers.IntegerField(min_value=1, max_value=100, default=80)


class BudgetOverviewSerializer(serializers.Serializer):
    month = serializers.DateField()
    limit_cents = serializers.IntegerField(allow_null=True)
    soft_pct = serializers.IntegerField()
    spent_cents = serializers.FloatField()
    reserved_cents = serializers.FloatField()
    soft_reached_at = serializers.DateTimeField(allow_null=True)
    exceeded_at = serializers.DateTimeField(allow_null=True)
    agents = serializers.ListField(child=serializers.DictField())


class UsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    agents = serializers.ListField(child=serializers.DictField())
    sessions = serializers.ListField(child=serializers.DictField())


class BudgetView(TenantAPIView):
    """GET: any member. PUT: owners only (audited; a raise resumes agents paused for
    budget)."""

    serializer_class = BudgetSerializer
    write_role = Role.OWNER

    def scoped_queryset(self) -> QuerySet:
        return Budget.objects.all()

    @extend_schema(responses=BudgetOverviewSerializer)
    def get(self, request: Request) -> Response:
        return Response(budget_overview(tenant=self.tenant))

    @extend_schema(request=BudgetSerializer, responses=BudgetOverviewSerializer)
    def put(self, request: Request) -> Response:
        body = BudgetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        budget_set(tenant=self.tenant, actor_user=request.user, **body.validated_data)
        return Response(budget_overview(tenant=self.tenant))


class UsageDayView(TenantAPIView):
    """One local day's usage per agent and per session (default: today)."""

    serializer_class = UsageDaySerializer

    def scoped_queryset(self) -> QuerySet:
        return Budget.objects.none()

    @extend_schema(
        parameters=[OpenApiParameter("day", str, description="YYYY-MM-DD")],
        responses=UsageDaySerializer,
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("day")
        try:
            day = date.fromisoformat(raw) if raw else self._today()
        except ValueError as exc:
            raise ValidationError({"day": "Use a date like 2026-11-25."}) from exc
        if not FIRST_DAY <= day <= LAST_DAY:  # the day's local midnights must fit a date
            raise ValidationError({"day": "Use a date from 2000 to 2999."})
        return Response(usage_day(tenant=self.tenant, day=day))

    def _today(self) -> date:
        return timezone.now().astimezone(ZoneInfo(self.tenant.timezone)).date()
