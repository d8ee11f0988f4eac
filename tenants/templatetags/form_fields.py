"""Form fields with their errors and help next to them, tied by aria-describedby."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def described_widget(field: BoundField) -> SafeString:
    """The field's widget, described by its error list and help text (their ids are
    `<id>_errors` and `<id>_helptext`, as rendered by templates/portal/_field.html)."""
    ids = [f"{field.auto_id}_errors"] if field.errors else []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    return field.as_widget(attrs={"aria-describedby": " ".join(ids)} if ids else None)
