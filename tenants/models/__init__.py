from tenants.models.audit import ActorType, AuditEvent
from tenants.models.invitation import Invitation
from tenants.models.owned import TenantOwned
from tenants.models.tenant import Membership, Role, Tenant, TenantStatus

__all__ = [
    "ActorType",
    "AuditEvent",
    "Invitation",
    "Membership",
    "Role",
    "Tenant",
    "TenantOwned",
    "TenantStatus",
]
