"""Sign-up errors render under their own field and describe its input (aria-describedby)."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _field_block(body: str, name: str) -> str:
    """The rendered `<div class="field">` that holds the input called `name`."""
    blocks = [b for b in body.split('<div class="field">')[1:] if f'name="{name}"' in b]
    assert len(blocks) == 1, body
    return blocks[0]


def test_a_missing_company_name_is_reported_under_the_company_field(db):
    response = Client().post(
        "/accounts/signup/",
        {"email": "x@newco.test", "password1": "Corr3ct-Horse-1", "password2": "Corr3ct-Horse-1"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    company = _field_block(body, "company_name")
    assert 'id="id_company_name_errors"' in company and "This field is required." in company
    widget = re.search(r'<input[^>]*name="company_name"[^>]*>', company).group(0)
    assert 'aria-describedby="id_company_name_errors"' in widget
    assert company.index("<input") < company.index("This field is required.")
    assert "This field is required." not in _field_block(body, "email")


def test_a_password_mismatch_sits_with_the_password_fields(db):
    response = Client().post(
        "/accounts/signup/",
        {
            "email": "y@newco.test",
            "password1": "Corr3ct-Horse-1",
            "password2": "Other-Horse-22",
            "company_name": "NewCo",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    password2 = _field_block(body, "password2")
    assert 'id="id_password2_errors"' in password2
    assert 'aria-describedby="id_password2_errors"' in password2
    assert "This field is required." not in body
