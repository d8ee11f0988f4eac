"""Third-party admin forms that answered 500 on junk: staff get field errors instead.

django-celery-beat's crontab validators pass values celery's own parser then rejects
(e.g. minute "-5" raises ParseException on save), and an id beyond the database's integer
range in a ModelMultipleChoiceField (the group/permission pickers of the user and group
admins) overflows SQLite's integer in the lookup."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django_celery_beat.admin import CrontabScheduleAdmin
from django_celery_beat.models import CrontabSchedule

# CrontabSchedule's fields, named as celery's crontab() takes them.
CRONTAB_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
MAX_ID = 2**63 - 1


class CrontabScheduleForm(forms.ModelForm):
    class Meta:
        model = CrontabSchedule
        fields = [*CRONTAB_FIELDS, "timezone"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for field in CRONTAB_FIELDS:
            value = cleaned.get(field)
            if value is None:
                continue
            try:
                crontab(**{field: value})
            except Exception as exc:  # celery raises ParseException, ValueError, IndexError
                self.add_error(field, f"Not a valid cron value: {exc}")
        return cleaned


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Ids outside the database's integer range are "not a valid choice", not a 500."""

    def _check_values(self, value: Any) -> Any:
        for pk in value or ():
            try:
                in_range = -MAX_ID <= int(str(pk)) <= MAX_ID
            except ValueError:
                continue  # the parent reports non-numbers
            if not in_range:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)


class BoundedPickersMixin:
    def formfield_for_manytomany(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("form_class", BoundedModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SafeCrontabScheduleAdmin(CrontabScheduleAdmin):
    form = CrontabScheduleForm


class SafeUserAdmin(BoundedPickersMixin, UserAdmin):
    pass


class SafeGroupAdmin(BoundedPickersMixin, GroupAdmin):
    pass


for model, model_admin in (
    (CrontabSchedule, SafeCrontabScheduleAdmin),
    (User, SafeUserAdmin),
    (Group, SafeGroupAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
