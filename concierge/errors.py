"""Errors that operations raise and every shell (web, API, CLI) turns into a clear answer."""
from __future__ import annotations

from typing import Any, Sequence

from .messages import N_

#: ValidationFailed's summary when its raiser gives none. A msgid: the shells say it in their reader's
#: language (`as_dict(lang)`); a raiser that knows the language says it itself (`translate`).
NOT_ACCEPTED = N_("The submission was not accepted")


class ConciergeError(Exception):
    """Base for expected, user-facing failures."""

    status, code = 400, "error"

    def message_in(self, lang: str | None = None) -> str:
        """The message; the default summary (`NOT_ACCEPTED`) said in `lang` when one is given."""
        text = str(self)
        if lang and text == NOT_ACCEPTED:
            from .messages import translate

            return translate(NOT_ACCEPTED, lang)
        return text

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        return {"error": self.code, "message": self.message_in(lang)}


class ValidationFailed(ConciergeError):
    """Input broke the schema's rules; `errors` name each field and the reason."""

    status, code = 422, "validation_failed"

    def __init__(self, errors: Sequence[Any], message: str = NOT_ACCEPTED):
        super().__init__(message)
        self.errors = list(errors)

    def as_dict(self, lang: str | None = None) -> dict[str, Any]:
        return {"error": self.code, "message": self.message_in(lang),
                "errors": [e.as_dict() if hasattr(e, "as_dict") else e for e in self.errors]}


class NotFound(ConciergeError):
    """Something the request names does not exist (a shop, a call, a user, a model version...)."""

    status, code = 404, "not_found"


class Conflict(ConciergeError):
    """The request clashes with what is stored (an e-mail in use, a lost claim, an ambiguous token prefix...)."""

    status, code = 409, "conflict"


class BadMapping(ConciergeError):
    """A trial-history mapping file is wrong (scoring.trial_mapping's TrialMappingError): nothing is imported."""

    code = "bad_mapping"


class DuplicateSubmission(ConciergeError):
    """The same response (shop + reference) was stored already, possibly a moment ago."""

    status, code = 200, "duplicate"

    def __init__(self, submission: Any):
        super().__init__("This response was stored already")
        self.submission = submission


class UnsupportedMediaType(ValidationFailed):
    """A JSON endpoint was sent another Content-Type (415); `errors` name the header."""

    status, code = 415, "unsupported_media_type"


class BadParameter(ValidationFailed):
    """A path or query parameter (or form field) that cannot be used at all: NUL, lone surrogate (400)."""

    status, code = 400, "bad_parameter"


def body_rejection(status: int, errors: Sequence[Any], message: str | None = None) -> ValidationFailed:
    """The error to raise for a body refused at the boundary (415, 400 or 422), naming its fields."""
    text = message or (errors[0]["message"] if errors and isinstance(errors[0], dict) else "rejected")
    if status == 415:
        return UnsupportedMediaType(errors, text)
    exc = ValidationFailed(errors, text)
    if status == 400:
        exc.status, exc.code = 400, "malformed_json"
    return exc
