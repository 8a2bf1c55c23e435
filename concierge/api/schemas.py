"""The API's request schemas live with the ingestion code; re-exported here for the API."""
from __future__ import annotations

from ..ingest.schemas import (  # noqa: F401
    EVENT_BODY,
    EVENT_ENVELOPE,
    REQUEST_SCHEMAS,
    body_error,
    event_types,
    register_schema,
    validate_body,
)

__all__ = ["REQUEST_SCHEMAS", "EVENT_ENVELOPE", "EVENT_BODY", "register_schema", "validate_body",
           "body_error", "event_types"]
