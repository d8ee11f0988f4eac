"""Tenant-scoped REST endpoints: the current tenant, its team, its audit log."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.api import TenantAPIView
from tenants.models import AuditEvent, Membership, Role
from tenants.serializers import (
    AuditEventSerializer,
    MembershipSerializer,
    RoleSerializer,
    TenantSerializer,
)
from tenants.services.team import membership_change_role, membership_remove


class CurrentTenantView(TenantAPIView):
    serializer_class = TenantSerializer

    def scoped_queryset(self) -> QuerySet:
        return Membership.objects.none()

    @extend_schema(summary="Your company", description="The company the session acts in.")
    def get(self, request: Request) -> Response:
        return Response(TenantSerializer(self.tenant).data)


class TeamListView(mixins.ListModelMixin, TenantAPIView):
    serializer_class = MembershipSerializer

    def scoped_queryset(self) -> QuerySet:
        return Membership.objects.select_related("user").order_by("user__email")

    @extend_schema(summary="The team", description="Every member with their role, by email.")
    def get(self, request: Request) -> Response:
        return self.list(request)


class TeamMemberView(mixins.RetrieveModelMixin, TenantAPIView):
    serializer_class = MembershipSerializer
    write_role = Role.ADMIN

    def scoped_queryset(self) -> QuerySet:
        return Membership.objects.select_related("user", "tenant")

    @extend_schema(summary="A member")
    def get(self, request: Request, pk: int) -> Response:
        return self.retrieve(request, pk=pk)

    @extend_schema(
        summary="Change a member's role",
        description="Owners and admins; only an owner grants or changes the owner role, and "
        "the last owner stays an owner. Without `role` nothing changes.",
        request=RoleSerializer,
        responses=MembershipSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        target = self.get_object()
        body = RoleSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        if "role" in body.validated_data:
            membership_change_role(
                actor_membership=self.membership, target=target, role=body.validated_data["role"]
            )
        return Response(MembershipSerializer(target).data)

    def check_object_permissions(self, request: Request, obj: Membership) -> None:
        leaving = request.method == "DELETE" and obj.pk == self.membership.pk
        if not leaving:  # anyone may leave; the service keeps the last owner
            super().check_object_permissions(request, obj)

    @extend_schema(
        summary="Remove a member, or leave",
        description="Owners and admins remove others; anyone may remove themselves (leave). "
        "The last owner cannot leave.",
    )
    def delete(self, request: Request, pk: int) -> Response:
        membership_remove(actor_membership=self.membership, target=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditListView(mixins.ListModelMixin, TenantAPIView):
    serializer_class = AuditEventSerializer

    def scoped_queryset(self) -> QuerySet:
        return AuditEvent.objects.all()

    @extend_schema(summary="The audit log", description="Who changed what, newest first.")
    def get(self, request: Request, *args: Any) -> Response:
        return self.list(request)
