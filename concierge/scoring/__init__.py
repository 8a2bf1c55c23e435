"""The conversion model: schema-driven features at a snapshot, calibrated likelihood, uplift of a call.

Pure: features, estimators, metrics, model, reasons, train, synthetic, leakage, outcome and
trial_mapping use only numpy, scikit-learn, profile_schema and locales (no database, no web,
nothing of concierge outside scoring; tests/unit/test_architecture.py guards it). What loads
trials, stores models and imports files is in concierge/operations/scoring. See docs/model.md.
"""
