"""Admin forms for model configuration: keys are write-only, chains must be usable."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from agents.models import AuthProfile, ModelChain


class AuthProfileForm(forms.ModelForm):
    """The key is typed in, never shown back; left empty on edit, the stored key is kept."""

    secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        label="API key / token",
        help_text="Stored encrypted and never shown again. Leave empty to keep the current key.",
    )

    class Meta:
        model = AuthProfile
        fields = ["provider", "label", "secret", "priority", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The stored value never reaches the form: not rendered, and an empty field on
        # edit is "unchanged" (no spurious "Changed API key" in the history).
        self.initial.pop("secret", None)

    def clean_secret(self) -> Any:
        value = self.cleaned_data.get("secret", "")
        if value:
            if len(value) < 8 or any(c.isspace() for c in value):
                raise ValidationError(
                    "That does not look like an API key (no spaces, 8+ characters)."
                )
            return value
        if self.instance.pk is None:
            raise ValidationError("A new profile needs its API key or token.")
        return self.instance.secret


class ModelChainForm(forms.ModelForm):
    """One chain at most is the platform default: say so instead of an IntegrityError."""

    class Meta:
        model = ModelChain
        fields = ["name", "is_default"]

    def clean_is_default(self) -> bool:
        value = bool(self.cleaned_data.get("is_default"))
        if value:
            current = ModelChain.objects.filter(is_default=True).exclude(pk=self.instance.pk)
            other = current.only("name").first()
            if other is not None:
                raise ValidationError(
                    f"“{other.name}” is already the default chain; only one chain can be the "
                    "default. Untick it there first."
                )
        return value


class ChainCandidateFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        live = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not live:
            raise ValidationError("A model chain needs at least one candidate (provider + model).")
        positions = [f.cleaned_data["position"] for f in live if "position" in f.cleaned_data]
        if len(set(positions)) != len(positions):
            raise ValidationError("Two candidates share a position; give each its own.")
        super().clean()
