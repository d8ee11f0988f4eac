"""The invitation email rides the Delivery path: a mail server that is down no longer turns
a saved invitation into a 500; the delivery retries and the link arrives once it is up."""

from __future__ import annotations

import re

import pytest

from integrations.models import Delivery, DeliveryStatus
from tenants.models import Invitation

from .conftest import mailed_after_outage

pytestmark = pytest.mark.django_db(transaction=True)


def test_inviting_with_the_mail_server_down_saves_and_retries(client_as, cast, smtp, eager):
    smtp.stop()
    response = client_as("owner").post(
        "/team/invite/", {"email": "new@person.test", "role": "member"}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.unscoped().get(tenant=cast.tenant, email="new@person.test")
    delivery = Delivery.objects.unscoped().get(tenant=cast.tenant, purpose="invitation")
    assert delivery.recipient == "new@person.test"
    delivery, message = mailed_after_outage(delivery, smtp)
    assert message["Subject"] == "You are invited to Acme Plumbing on Orion"
    token = re.search(r"/invite/([^/\s]+)/", message.get_payload()).group(1)
    from tenants.services.invitations import token_hash

    assert token_hash(token) == invitation.token_hash
    assert token not in delivery.body  # the one-time link does not stay in the database


def test_the_invitation_mail_is_sent_after_commit(client_as, cast, smtp, eager):
    client_as("owner").post("/team/invite/", {"email": "second@person.test", "role": "viewer"})
    (message,) = smtp.wait_messages(1)
    assert "as viewer" in message.get_payload()
    delivery = Delivery.objects.unscoped().get(tenant=cast.tenant, purpose="invitation")
    assert delivery.status == DeliveryStatus.SENT
