"""The demo population: a synthetic, deterministic set of trials with a known truth.

`generator` and `truth` are pure (numpy and the stdlib); `loader` writes a population into
the database; `concierge demo` (concierge/cli/demo.py) wires them.
"""
