"""The DRF base for every tenant-scoped endpoint, and the API's error handler.

`TenantAPIView` sets the tenant scope from the signed-in user's membership for the whole
request, and filters every queryset by that tenant. Subclasses supply `scoped_queryset()`;
overriding `get_queryset` is refused at class creation, so the filter cannot be bypassed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from rest_framework import exceptions, generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tenants.api_conventions import error_body
from tenants.middleware import choose_membership
from tenants.models import Membership, Role, Tenant
from tenants.scope import NoTenantScope, enter_scope, exit_scope

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class TenantRolePermission(permissions.BasePermission):
    """Reads need any membership; writes need the view's `write_role` (member by default).

    On an object URL the role is checked after the lookup, so another tenant's object is a
    404 for everyone, whatever their role in their own tenant.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        membership = getattr(view, "membership", None)
        if membership is None:
            raise exceptions.NotFound()
        on_object = (view.lookup_url_kwarg or view.lookup_field) in view.kwargs
        if request.method in SAFE_METHODS or on_object:
            return True
        return membership.at_least(view.write_role)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return request.method in SAFE_METHODS or view.membership.at_least(view.write_role)


class TenantPrincipal:
    """A non-person caller authenticated for exactly one tenant (an agent's API key).

    It acts in that tenant only, with `role` (member by default), through an unsaved
    Membership: the authentication class that returns it decides the tenant, never the
    request."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, *, tenant: Tenant, role: str = Role.MEMBER) -> None:
        self.membership = Membership(tenant=tenant, role=role)


class TenantAPIView(generics.GenericAPIView):
    permission_classes: ClassVar = [permissions.IsAuthenticated, TenantRolePermission]
    write_role: ClassVar[str] = Role.MEMBER

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; implement scoped_queryset() instead "
                "so the tenant filter cannot be bypassed"
            )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.membership = None
        django_request = request._request
        session_user = getattr(django_request, "user", None)  # read before DRF replaces it
        user = request.user
        if isinstance(user, TenantPrincipal):
            self.membership = user.membership
        elif session_user == user:
            # The session user: TenantScopeMiddleware already chose the membership.
            self.membership = django_request.membership
        elif user and user.is_authenticated:
            self.membership, _ = choose_membership(django_request, user)
        self.tenant = self.membership.tenant if self.membership else None
        self._scope_token = enter_scope(self.tenant.pk if self.tenant else None)
        super().initial(request, *args, **kwargs)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        token = getattr(self, "_scope_token", None)
        if token is not None:
            exit_scope(token)
            self._scope_token = None
        return super().finalize_response(request, response, *args, **kwargs)

    def scoped_queryset(self) -> QuerySet:
        raise NotImplementedError(f"{type(self).__name__} must implement scoped_queryset()")

    def get_queryset(self) -> QuerySet:
        if self.tenant is None:
            raise exceptions.NotFound()
        return self.scoped_queryset().filter(tenant_id=self.tenant.pk)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn domain errors into clear 4xx answers in the one error shape (see
    tenants.api_conventions); nothing reaches the client as a 500."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, (Http404, NoTenantScope)):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = error_body(exc, response.data)
    return response
