"""The interview schema: questions as data, validation, observations and the profile fold.

Pure: no Flask, no SQLAlchemy, no I/O beyond reading the packaged schema files.
"""
from .schema import (
    Choice, Question, Schema, SchemaError, SchemaRegistry, UnknownVersion, evaluate_condition,
    load_registry, load_schema, load_schema_file, parse_schema,
)
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
from .fold import PERSONAS, fold, changes_since
from .survey import CORE_LIMIT, SurveyPlan, plan_survey

__all__ = [
    "Choice", "Question", "Schema", "SchemaError", "SchemaRegistry", "UnknownVersion",
    "evaluate_condition", "load_registry", "load_schema", "load_schema_file", "parse_schema",
    "FieldError", "Validated", "message_for",
    "Observation", "SOURCES", "OPS",
    "Change", "Facet", "Feature", "Profile", "Readiness", "ChecklistItem", "ResolvedFact",
    "BusinessSummary", "PERSONAS", "fold", "changes_since",
    "CORE_LIMIT", "SurveyPlan", "plan_survey",
]
