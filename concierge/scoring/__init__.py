"""The conversion model: schema-driven features at a snapshot, calibrated likelihood, uplift of a call.

Pure parts (features, estimators, metrics, model, reasons, train, synthetic) use only
numpy, scikit-learn and profile_schema; data, store, service and importer talk to the
database. See docs/model.md.
"""
