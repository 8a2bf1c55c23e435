"""Request JSON Schemas: what we validate with is what the OpenAPI document shows.

Channels add their request bodies with `register_schema(name, schema)`; the OpenAPI
builder (concierge.api.openapi) reads `REQUEST_SCHEMAS`. Kept beside the ingestion code,
not in the API package, because operations validate with them too (CLI and replay).
"""
from __future__ import annotations

from typing import Any

from .bodies import body_error, validate_body
from .events import EVENT_ENVELOPE, event_types

__all__ = ["REQUEST_SCHEMAS", "EVENT_ENVELOPE", "EVENT_BODY", "register_schema", "request_body", "validate_body",
           "body_error", "event_types"]

EVENT_BODY = "TrialEvent"  # the key of the event envelope in REQUEST_SCHEMAS

REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {EVENT_BODY: EVENT_ENVELOPE}


def register_schema(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Add a request body schema under `name` (once), so validation and OpenAPI share it."""
    existing = REQUEST_SCHEMAS.get(name)
    if existing is not None and existing is not schema and existing != schema:
        raise ValueError(f"request schema {name!r} is already registered with another body")
    REQUEST_SCHEMAS[name] = schema
    return schema


def request_body(name: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Register the JSON object an endpoint accepts as `name` (its title in OpenAPI): these properties and
    no others (an unknown field is a 422), the `required` ones present."""
    schema: dict[str, Any] = {"type": "object", "title": name, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema["properties"] = properties
    return register_schema(name, schema)
