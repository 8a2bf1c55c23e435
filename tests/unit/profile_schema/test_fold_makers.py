"""The fold's quick constructors make exactly the objects the dataclasses' own __init__ makes."""
from __future__ import annotations

import dataclasses
import importlib
from datetime import datetime, timezone

import pytest

from profile_schema.profile import ChecklistItem, Facet, Fact, Feature, ResolvedFact

fold_module = importlib.import_module("profile_schema.fold")
AT = datetime(2026, 4, 1, 8, 0, tzinfo=timezone.utc)
CASES = [
    (fold_module._ResolvedFact, ResolvedFact, ("k", [1, 2], "trial", "trial:x", AT, ())),
    (fold_module._Fact, Fact, ({"amount": 1}, "survey", "survey:1", AT)),
    (fold_module._ChecklistItem, ChecklistItem, ("readiness.x", "setup", None, None)),
    (fold_module._ResolvedFact, ResolvedFact, ("k", "v", "trial", "trial:x", AT, ())),
    (fold_module._Feature, Feature, ("payments", True, ("blik",), "trial")),
    (fold_module._Facet, Facet, ("business", {})),
]


@pytest.mark.parametrize("make,cls,args", CASES, ids=[c[1].__name__ for c in CASES])
def test_quick_constructor_equals_the_dataclass(make, cls, args):
    assert make is not cls  # the quick path is in use for every one of them
    made, real = make(*args), cls(*args)
    assert type(made) is cls
    assert made == real
    if all(isinstance(a, (str, bool, int, tuple, datetime, type(None))) for a in args):
        assert hash(made) == hash(real)
    assert vars(made) == vars(real) and list(vars(made)) == list(vars(real))
    assert repr(made) == repr(real)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, dataclasses.fields(cls)[0].name, "other")


def test_a_class_the_quick_path_cannot_copy_is_returned_as_it_is():
    @dataclasses.dataclass(frozen=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            if self.x < 0:
                raise ValueError("negative")

    @dataclasses.dataclass
    class Mutable:
        x: int

    assert fold_module._maker(Checked) is Checked
    assert fold_module._maker(Mutable) is Mutable
