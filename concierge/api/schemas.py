"""The API's request schemas live with the ingestion code; re-exported here for the API."""
from __future__ import annotations

from typing import Any

from ..ingest.schemas import (  # noqa: F401
    EVENT_BODY,
    EVENT_ENVELOPE,
    REQUEST_SCHEMAS,
    body_error,
    event_types,
    register_schema,
    validate_body,
)

__all__ = ["REQUEST_SCHEMAS", "EVENT_ENVELOPE", "EVENT_BODY", "register_schema", "request_body", "validate_body",
           "body_error", "event_types"]


def request_body(name: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Register the JSON object an endpoint accepts as `name` (its title in OpenAPI): these properties and
    no others (an unknown field is a 422), the `required` ones present."""
    schema: dict[str, Any] = {"type": "object", "title": name, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema["properties"] = properties
    return register_schema(name, schema)
