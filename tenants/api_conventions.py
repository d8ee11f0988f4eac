"""The API's conventions: one error shape (and its schema) and JSON 404s.

Every 4xx body is `{"detail": "<one sentence>", "code": "<machine code>"}`; rejected input
adds `"errors": {"<field>": ["<message>", ...]}` (a message not about one field is under
"non_field_errors"). The schema documents it for every operation's 400/401/403/404."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, serializers

ERROR_STATUSES = {
    "400": "Rejected input: `errors` names each field and what is wrong with it.",
    "401": "Not signed in (or no valid API key): sign in and retry.",
    "403": "Signed in, but your role may not do this.",
    "404": "No such object in your company (another company's objects are 404 too).",
}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, as one sentence for people.")
    code = serializers.CharField(help_text="A stable machine code, e.g. `invalid`, `not_found`.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Rejected input only: the messages for each field.",
    )


def _messages(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    if isinstance(value, list):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


def error_body(exc: exceptions.APIException, data: Any) -> dict[str, Any]:
    """The documented shape for a DRF error answer's `data`."""
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        errors = {str(field): _messages(value) for field, value in errors.items()}
        general = errors.get("non_field_errors") or errors.get("detail")
        if general:
            detail = " ".join(general)
        else:
            detail = "Check " + ", ".join(f"`{f}`" for f in errors) + ": " + _messages(errors)[0]
        return {"detail": detail, "code": "invalid", "errors": errors}
    detail = data.get("detail", exc.detail) if isinstance(data, dict) else exc.detail
    codes = exc.get_codes()
    return {
        "detail": str(detail),
        "code": codes if isinstance(codes, str) else exc.default_code,
    }


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """An /api/ URL that matches no endpoint (e.g. a non-numeric id): JSON, not HTML."""
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


class ErrorDocumentingAutoSchema(AutoSchema):
    """drf-spectacular's schema, with the error shape documented for 400/401/403/404 on
    every operation (an operation's own description of a status wins)."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        bodies = super()._get_response_bodies(direction)
        if direction != "response":
            return bodies
        for code, description in ERROR_STATUSES.items():
            if code not in bodies:
                body = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                body["description"] = description
                bodies[code] = body
        return bodies
