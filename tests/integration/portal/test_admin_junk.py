"""Staff get field errors, never a 500, for junk in third-party admin forms: the
django-celery-beat crontab and the group/permission pickers of the user and group admins."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_celery_beat.models import CrontabSchedule

from tests.conftest import make_user

pytestmark = pytest.mark.django_db

TOO_BIG = "99999999999999999999"


@pytest.fixture
def staff() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(make_user("root@orion.test", is_staff=True, is_superuser=True))
    return client


CRONTAB = {
    "minute": "0",
    "hour": "*",
    "day_of_week": "*",
    "day_of_month": "*",
    "month_of_year": "*",
    "timezone": "UTC",
}

INLINE = {"periodictask_set-TOTAL_FORMS": "0", "periodictask_set-INITIAL_FORMS": "0"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("minute", "-5"),
        ("minute", "61"),
        ("hour", "x"),
        ("day_of_week", "8-"),
        ("month_of_year", "13"),
    ],
)
def test_a_junk_crontab_is_a_field_error(staff, field, value):
    response = staff.post(
        "/admin/django_celery_beat/crontabschedule/add/", {**CRONTAB, **INLINE, field: value}
    )
    assert response.status_code == 200  # the form again, with the error
    assert "errorlist" in response.content.decode()
    assert not CrontabSchedule.objects.exists()


def test_a_good_crontab_is_saved(staff):
    response = staff.post(
        "/admin/django_celery_beat/crontabschedule/add/", {**CRONTAB, **INLINE, "minute": "*/5"}
    )
    assert response.status_code == 302
    assert CrontabSchedule.objects.get().minute == "*/5"


def test_an_out_of_range_group_id_on_a_user_is_a_field_error(staff):
    user = make_user("pat@acme.test")
    response = staff.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": user.username,
            "email": user.email,
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "groups": [TOO_BIG],
            "user_permissions": [TOO_BIG],
        },
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_an_out_of_range_permission_id_on_a_group_is_a_field_error(staff):
    response = staff.post("/admin/auth/group/add/", {"name": "ops", "permissions": [TOO_BIG]})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Group.objects.exists()
