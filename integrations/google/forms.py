from __future__ import annotations

from django import forms


class DisconnectForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        label="Revoke Orion's access at Google and delete the stored tokens",
        error_messages={"required": "Tick the box to confirm the disconnect."},
    )
