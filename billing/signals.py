"""Signals for the floors above billing (agents resumes agents paused for budget)."""

from django.dispatch import Signal

# Sent after commit with tenant_id when budgets gained room: a raise, or a sweep (which
# also covers month rollover: a new month's counters start at zero).
budget_room = Signal()
