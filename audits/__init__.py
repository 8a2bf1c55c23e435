"""Follow-up audit scheduling: profile history + market rules + calendar in, calls out.

Pure (no Flask, no SQLAlchemy, no ``concierge``; time is passed in):

- ``rules``: audit rules as data (``audits/rule_files/*.yaml`` + the manager's overrides),
  ``load_rules(market) -> RuleSet``;
- ``facts``: ``shop_facts(observations, profile, ...) -> ShopFacts``, what the rules read;
- ``planner``: ``plan(facts, rules, now, open_calls=..., known=...) -> Plan``;
- ``slots``: when a merchant may be phoned (market hours, holidays, DST, consent,
  legal windows, their preferred hours); ``next_slot``, ``offer_slots``;
- ``agenda``: 2-4 advice items per call, rendered in the reader's language;
- ``messages``: every sentence, as gettext message ids for concierge's catalogs.
"""
from .facts import FACTS_VERSION, ShopFacts, shop_facts
from .rules import AuditError, RuleSet, load_rules

__all__ = ["FACTS_VERSION", "ShopFacts", "shop_facts", "AuditError", "RuleSet", "load_rules"]
