"""Scoring's operations: the parts of the model that read and write the database.

`data` loads trials as snapshots, `store` keeps model versions (skops artifacts), `service`
trains, scores and evaluates, `importer` loads trial histories from CSV. The model itself
(features, estimators, model, reasons, metrics, trial mapping) is pure, in concierge/scoring.
"""
