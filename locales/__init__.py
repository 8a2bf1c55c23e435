"""Market rules for Poland, Turkey and India: data, validation, formatting, calendars.

A pure package: no Flask, no database, no import of ``concierge``; time is passed in.
"""

from .errors import InvalidValue
from .languages import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    language_base,
    language_or_default,
    supported_language,
)
from .market import (
    MARKET_CODES,
    MARKETS,
    Market,
    MarketDataError,
    get_market,
    load_markets,
    market_currency,
    market_language,
    market_languages,
)
from .phones import PhoneNumber, normalize_phone
from .taxids import TaxId, validate_tax_id

__all__ = [
    "DEFAULT_LANGUAGE", "InvalidValue", "LANGUAGE_NAMES", "LANGUAGES", "MARKETS", "MARKET_CODES", "Market",
    "MarketDataError", "PhoneNumber", "TaxId",
    "get_market", "language_base", "language_or_default", "load_markets", "market_currency", "market_language",
    "market_languages",
    "normalize_phone",
    "supported_language", "validate_tax_id",
]
