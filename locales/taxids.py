"""Tax identifiers checked offline with python-stdnum, plus a guard against placeholders.

Checksums are weak (``000000000`` is a valid REGON, ``1234567890`` a valid VKN), so
all-same and consecutive digit runs are rejected after stdnum accepts them.  No
function here ever contacts a government service (``tckimlik.check_kps`` is banned).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Mapping

from stdnum import exceptions as stdnum_exc
from stdnum import util as stdnum_util
from stdnum.in_ import gstin, pan
from stdnum.pl import nip, pesel, regon
from stdnum.tr import tckimlik, vkn

from .errors import InvalidValue

__all__ = ["TaxId", "TaxIdKind", "TAX_ID_KINDS", "validate_tax_id", "is_placeholder_digits"]


def _pesel_info(compact: str) -> dict[str, Any]:
    """Expose what a PESEL encodes without storing more than the caller already has."""
    return {"birth_date": pesel.get_birth_date(compact).isoformat(), "gender": pesel.get_gender(compact)}


def _gstin_info(compact: str) -> dict[str, Any]:
    """Surface state and embedded PAN: the picture shows where a GST registration lives."""
    info = dict(gstin.info(compact))
    info["state_code"] = compact[:2]
    return info


@dataclass(frozen=True)
class TaxIdKind:
    """How one identifier kind is validated, displayed and described."""

    key: str
    label: str
    module: ModuleType
    digits_only: bool
    display: Callable[[str], str] = str
    info: Callable[[str], Mapping[str, Any]] = field(default=lambda compact: {})


#: Every kind this package can validate, keyed by its stable name.
TAX_ID_KINDS: Mapping[str, TaxIdKind] = {
    "nip": TaxIdKind("nip", "NIP", nip, True, display=nip.format),
    "regon": TaxIdKind("regon", "REGON", regon, True),
    "pesel": TaxIdKind("pesel", "PESEL", pesel, True, info=_pesel_info),
    "vkn": TaxIdKind("vkn", "VKN", vkn, True),
    "tckn": TaxIdKind("tckn", "TCKN", tckimlik, True),
    "gstin": TaxIdKind("gstin", "GSTIN", gstin, False, info=_gstin_info),
    "pan": TaxIdKind("pan", "PAN", pan, False, info=lambda compact: dict(pan.info(compact))),
}


@dataclass(frozen=True, kw_only=True)
class TaxId:
    """A validated identifier: store ``compact``, show ``display``; ``info`` is what it encodes."""

    kind: str
    compact: str
    display: str
    info: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.compact


_STDNUM_CODES = (
    (stdnum_exc.InvalidChecksum, "taxid.checksum"),
    (stdnum_exc.InvalidLength, "taxid.length"),
    (stdnum_exc.InvalidComponent, "taxid.component"),
    (stdnum_exc.InvalidFormat, "taxid.format"),
)
# Errors that mean "this *is* that kind of number, just wrong" beat "wrong shape" when guessing.
_SPECIFIC = ("taxid.checksum", "taxid.component", "taxid.repeated_digits", "taxid.sequential_digits")


def is_placeholder_digits(digits: str) -> str | None:
    """Return an error code if ``digits`` is one repeated digit or an ascending/descending run."""
    if len(digits) < 2 or not digits.isdigit():
        return None
    if len(set(digits)) == 1:
        return "taxid.repeated_digits"
    steps = {(int(b) - int(a)) % 10 for a, b in zip(digits, digits[1:])}
    if steps in ({1}, {9}):
        return "taxid.sequential_digits"
    return None


def _clean(raw: str) -> str:
    """Drop the separators people type; some stdnum modules (tr.vkn) only strip the ends."""
    return stdnum_util.clean(raw, " -./\u00a0\t").upper()


def _validate_kind(raw: str, kind: TaxIdKind) -> TaxId:
    """Validate ``raw`` as exactly one kind, translating stdnum errors to our codes."""
    params = {"kind": kind.key, "kind_label": kind.label}
    try:
        compact = kind.module.validate(_clean(raw))
    except stdnum_exc.ValidationError as exc:
        for exc_type, code in _STDNUM_CODES:
            if isinstance(exc, exc_type):
                raise InvalidValue(code, params) from exc
        raise InvalidValue("taxid.format", params) from exc
    if kind.digits_only:
        placeholder = is_placeholder_digits(compact)
        if placeholder:
            raise InvalidValue(placeholder, params)
    return TaxId(kind=kind.key, compact=compact, display=kind.display(compact), info=dict(kind.info(compact)))


def validate_tax_id(raw: str, market: str, kind: str | None = None) -> TaxId:
    """Validate a tax id for ``market``; with ``kind=None`` accept the first market kind that fits."""
    from .market import get_market  # late import: market loading reads YAML

    market_obj = get_market(market)
    kinds = market_obj.tax_id_kinds
    if not (raw or "").strip():
        raise InvalidValue("taxid.empty", {"market": market_obj.code})
    if kind is not None:
        key = kind.lower()
        if key not in kinds or key not in TAX_ID_KINDS:
            raise InvalidValue(
                "taxid.unknown_kind", {"kind": kind, "market": market_obj.code, "expected": ", ".join(kinds)}
            )
        return _validate_kind(raw, TAX_ID_KINDS[key])
    errors: list[InvalidValue] = []
    for key in kinds:
        try:
            return _validate_kind(raw, TAX_ID_KINDS[key])
        except InvalidValue as exc:
            errors.append(exc)
    specific = [exc for exc in errors if exc.code in _SPECIFIC]
    if len(specific) == 1:
        # Exactly one kind recognised the shape: its complaint is the useful one.
        raise specific[0]
    labels = " / ".join(TAX_ID_KINDS[key].label for key in kinds)
    raise InvalidValue("taxid.unrecognised", {"market": market_obj.code, "expected": labels, "kinds": list(kinds)})
