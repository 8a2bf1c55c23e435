"""Market data files (``_base.yaml`` plus one YAML per market); no code lives here."""
