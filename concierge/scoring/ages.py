"""The trial ages the model is trained and scored at: numbers only, no numpy, so the CLI can
show them as defaults without loading the model's libraries."""

#: The headline figures (and a model of one snapshot day) freeze each trial this many days in.
DEFAULT_SNAPSHOT_DAY = 7
#: Training snapshots every finished trial at these trial ages (days since the start), with the
#: age as a feature (`activity.trial_day`), so a trial is scored on what was known at its own
#: age; `concierge model train --ages` changes them. DEFAULT_SNAPSHOT_DAY is always one of them.
DEFAULT_AGES = (0, 2, 4, 7, 10)
