"""The guards' shared reading of source code: which literal text in an expression reaches people as
it is written, in English (tests/unit/test_cli_messages.py, tests/unit/test_error_messages.py)."""
from __future__ import annotations

import ast
import re

#: Calls whose text the catalogs hold: what they are given is not English written in place.
GETTEXT = {"_", "N_", "gettext", "ngettext", "pgettext", "npgettext", "lazy_gettext", "_l"}
WORDS = re.compile(r"[^\W\d_]{2,}")  # two letters in a row: a word (not "s", not "%(num)d")


def call_name(func: ast.expr) -> str | None:
    """The called function's own name (`x.f` and `f` both give "f")."""
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def english(node: ast.AST) -> list[ast.Constant]:
    """The literal text with words in an expression that becomes the text shown: the parts of
    f-strings, concatenations and `%` operands, conditional branches, mappings' values, tuple and
    list items, comprehensions' items, a lambda's result, a literal's .format() and what .join()
    joins; not what a gettext call holds, nor subscripts, keys, conditions or other calls' args."""
    if isinstance(node, ast.Constant):
        return [node] if isinstance(node.value, str) and WORDS.search(node.value) else []
    if isinstance(node, ast.JoinedStr):
        return [n for v in node.values for n in (english(v.value) if isinstance(v, ast.FormattedValue)
                                                  else english(v))]
    if isinstance(node, ast.BinOp):
        return english(node.left) + english(node.right)
    if isinstance(node, ast.IfExp):
        return english(node.body) + english(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [n for v in node.values for n in english(v)]
    if isinstance(node, ast.Dict):
        return [n for v in node.values for n in english(v)]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for v in node.elts for n in english(v)]
    if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
        return english(node.elt)
    if isinstance(node, ast.Lambda):
        return english(node.body)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and call_name(node.func) in ("format", "join"):
        # "{} {}".format(...) and ", ".join(f"... {x}" for x in xs): all of it is shown
        return english(node.func.value) + [n for a in node.args for n in english(a)]
    return []
