"""Operations' errors speak the reader's language (issue 15): no English-only message is raised.

An AST scan of concierge/**.py: `raise X(...)`, X being ConciergeError or any of its subclasses
in concierge/errors.py (collected from the module, so a new subclass is covered), must not get
as its first argument a string literal or f-string with words (nor `"..." % x`, `"...".format()`):
the message comes out of a gettext call (`translations(lang).gettext(...)`, `translate(N_(...),
lang)`, a message table's `localize`...), with `%(name)s` placeholders filled after it. The
shells pass the reader's language (`lang`: the request's, the CLI reader's; English under --json).

Not seen here: a message built into a variable first, and the messages of ValidationFailed's
field errors (its first argument is the list of errors).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "concierge"
WORDS = re.compile(r"[^\W\d_]{2,}")  # two letters in a row: a word (not "s", not "%(num)d")


def error_classes(errors_py: Path = PACKAGE / "errors.py") -> set[str]:
    """ConciergeError and every class in errors.py that derives from it (directly or not)."""
    classes = [n for n in ast.parse(errors_py.read_text(encoding="utf-8")).body if isinstance(n, ast.ClassDef)]
    found, grew = {"ConciergeError"}, True
    while grew:
        grew = False
        for c in classes:
            bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", None) for b in c.bases}
            if c.name not in found and bases & found:
                found.add(c.name)
                grew = True
    return found


def _name(func: ast.expr) -> str | None:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _english(node: ast.AST) -> list[ast.Constant]:
    """The literal text with words that becomes the message: parts of f-strings, concatenations,
    `%` operands and mappings' values, conditional branches, a literal's .format()/.join();
    not what another call (gettext, a message table) holds."""
    if isinstance(node, ast.Constant):
        return [node] if isinstance(node.value, str) and WORDS.search(node.value) else []
    if isinstance(node, ast.JoinedStr):
        return [n for v in node.values for n in (_english(v.value) if isinstance(v, ast.FormattedValue)
                                                  else _english(v))]
    if isinstance(node, ast.BinOp):
        return _english(node.left) + _english(node.right)
    if isinstance(node, ast.IfExp):
        return _english(node.body) + _english(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [n for v in node.values for n in _english(v)]
    if isinstance(node, ast.Dict):
        return [n for v in node.values for n in _english(v)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return _english(node.func.value)  # "no {x}".format(x=...): English written in place
    return []


def english_raises(root: Path = PACKAGE, errors_py: Path | None = None) -> list[str]:
    """`path:line: literal` for every error of ours raised with an English-only message."""
    errors = error_classes(errors_py or root / "errors.py")
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and _name(node.exc.func) in errors and node.exc.args):
                continue
            for literal in _english(node.exc.args[0]):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {literal.value!r}")
    return found


def test_the_scan_knows_every_error_class():
    classes = error_classes()
    assert {"ConciergeError", "NotFound", "Conflict", "ValidationFailed", "BadMapping", "DuplicateSubmission",
            "UnsupportedMediaType", "BadParameter"} <= classes
    assert "Exception" not in classes


def test_the_scan_finds_english_messages(tmp_path):
    pkg = tmp_path / "concierge"
    pkg.mkdir()
    (pkg / "errors.py").write_text("class ConciergeError(Exception):\n    pass\n"
                                   "class NotFound(ConciergeError):\n    pass\n"
                                   "class Gone(NotFound):\n    pass\n", encoding="utf-8")
    (pkg / "ops.py").write_text(
        "from .errors import Gone, NotFound\nfrom . import errors\n"
        "def f(x, lang, catalog):\n"
        "    raise NotFound(f'no shop {x}')\n"                                    # 4: f-string
        "    raise errors.Gone('gone for good') from None\n"                      # 5: literal, subclass of a subclass
        "    raise NotFound('no shop %s' % x)\n"                                  # 6: % on a literal
        "    raise NotFound('no shop {x}'.format(x=x))\n"                         # 7: .format on a literal
        "    raise NotFound(catalog.gettext('no shop %(x)s') % {'x': x})\n"      # fine: gettext
        "    raise NotFound(translate(N_('no shop'), lang))\n"                    # fine: the table's way
        "    raise NotFound('%s: 404' % x)\n"                                     # fine: no words
        "    raise ValueError('not ours')\n", encoding="utf-8")                   # fine: not a ConciergeError
    assert [line.split(": ", 1)[0] for line in english_raises(pkg)] == [
        "concierge/ops.py:4", "concierge/ops.py:5", "concierge/ops.py:6", "concierge/ops.py:7"]


def test_no_error_is_raised_with_an_english_only_message():
    found = english_raises()
    assert not found, ("raise these through gettext with a `lang` parameter (see "
                       "operations/scoring/store.no_active_model):\n" + "\n".join(found))
