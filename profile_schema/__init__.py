"""The interview schema: questions as data, validation, observations and the profile fold.

Pure: no Flask, no SQLAlchemy, no I/O beyond reading the packaged schema files.
"""
from .schema import Question, Schema, SchemaRegistry, load_registry, load_schema, load_schema_file
from .validation import FieldError, Validated, message_for
from .observations import Observation, SOURCES, OPS
from .profile import (
    Change,
    Facet,
    Feature,
    Profile,
    Readiness,
    ChecklistItem,
    ResolvedFact,
    BusinessSummary,
)
from .fold import fold, changes_since

__all__ = [
    "Question", "Schema", "SchemaRegistry", "load_registry", "load_schema", "load_schema_file",
    "FieldError", "Validated", "message_for",
    "Observation", "SOURCES", "OPS",
    "Change", "Facet", "Feature", "Profile", "Readiness", "ChecklistItem", "ResolvedFact",
    "BusinessSummary", "fold", "changes_since",
]
