"""Operations' errors speak the reader's language (issue 15): no English-only message is raised.

An AST scan of concierge/**.py: `raise X(...)`, X being ConciergeError or any of its subclasses
in concierge/errors.py (collected from the module, so a new subclass is covered), must not get
as its first argument a string literal or f-string with words (nor `"..." % x`, `"...".format()`):
the message comes out of a gettext call (`translations(lang).gettext(...)`, `translate(N_(...),
lang)`, a message table's `localize`...), with `%(name)s` placeholders filled after it. The
shells pass the reader's language (`lang`: the request's, the CLI reader's; English under --json).

ValidationFailed is scanned further (`english_field_errors`): the "message" of each field-error
dict written in its call, or in the list it is given (`errors = [...]`, `errors.append({...})`,
`errors += [...]` in the same function), and its message argument (second or `message=`). A
field's name put before the translated text ("days: " + ..., or the field's value itself) is no
English: it is the name the request used.

The `_error(field, code, message)` helper's message is scanned as a dict's would be. Not seen
here: a message built into a variable first, another helper building the dict.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.english import call_name, english

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "concierge"
FIELD_PREFIX = re.compile(r"^-*[\w.\[\]-]+: ?$")  # "days: ", "--default-market: ": a field's name


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


def english_raises(root: Path = PACKAGE, errors_py: Path | None = None) -> list[str]:
    """`path:line: literal` for every error of ours raised with an English-only message."""
    errors = error_classes(errors_py or root / "errors.py")
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and call_name(node.exc.func) in errors and node.exc.args):
                continue
            if isinstance(node.exc.args[0], ast.List):  # ValidationFailed's field errors: english_field_errors
                continue
            for literal in english(node.exc.args[0]):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {literal.value!r}")
    return found


def _field_messages(errors: ast.AST) -> list[ast.Constant]:
    """English in the "message" of the field-error dicts under `errors`, but a field's name."""
    found = []
    for d in ast.walk(errors):
        if isinstance(d, ast.Call) and call_name(d.func) == "_error" and len(d.args) == 3:  # _error(field, code, message)
            found += [n for n in english(d.args[2]) if not FIELD_PREFIX.match(n.value)]
        if not isinstance(d, ast.Dict):
            continue
        values = {k.value: v for k, v in zip(d.keys, d.values) if isinstance(k, ast.Constant)}
        if "message" not in values:
            continue
        field = values.get("field")
        fields = {field.value} if isinstance(field, ast.Constant) else set()
        found += [n for n in english(values["message"])
                  if n.value not in fields and not FIELD_PREFIX.match(n.value)]
    return found


def _lists_given(function: ast.AST, name: str) -> list[ast.AST]:
    """What the function puts in the list `name`: `name = [...]`, `name.append(x)`, `name += [...]`,
    `name.extend([...])`."""
    parts: list[ast.AST] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            parts.append(node.value)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name) \
                and node.target.id == name and node.value is not None:
            parts.append(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("append", "extend") and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == name:
            parts += node.args
    return parts


def english_field_errors(root: Path = PACKAGE) -> list[str]:
    """`path:line: literal` for every ValidationFailed(...) whose field errors or message are English-only."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and call_name(node.func) == "ValidationFailed"):
                continue
            literals = []
            errors = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "errors"), None)
            if isinstance(errors, ast.Name):
                home = min((f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)),
                           key=lambda f: (f.end_lineno or f.lineno) - f.lineno, default=tree)
                for part in _lists_given(home, errors.id):
                    literals += _field_messages(part)
            elif errors is not None:
                literals += _field_messages(errors)
            message = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "message"), None)
            if message is not None:
                literals += english(message)
            found += [f"{path.relative_to(root.parent)}:{node.lineno}: {lit.value!r}" for lit in literals]
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


def test_the_scan_finds_english_field_errors(tmp_path):
    pkg = tmp_path / "concierge"
    pkg.mkdir()
    (pkg / "ops.py").write_text(
        "def f(x, lang, _):\n"
        "    raise ValidationFailed([{'field': 'a', 'code': 'c', 'message': 'a: too long'}])\n"      # 2: literal
        "    raise ValidationFailed([{'field': 'a', 'message': f'a: use {x}'}], _('No'))\n"         # 3: f-string
        "    raise ValidationFailed([], 'The user was not created')\n"                              # 4: message
        "    raise errors.ValidationFailed([], message='%s rows failed' % x)\n"                    # 5: message=
        "    raise ValidationFailed([{'field': 'days', 'message': 'days: ' + _('too many')}])\n"   # fine: a field
        "    raise ValidationFailed([{'field': 'x', 'message': _('%(f)s: bad') % {'f': 'x'}}])\n"  # fine: the field
        "    raise ValidationFailed([{'field': 'a', 'message': msg('too_long', lang)}], msg('no', lang))\n"  # fine
        "def g(x):\n"
        "    errors = [{'field': 'a', 'message': 'first'}]\n"
        "    errors.append({'field': 'b', 'message': 'no {}'.format(x)})\n"
        "    errors += [{'field': 'c', 'message': _('fine')}, _error('d', 'too_long', f'd: over {x}')]\n"
        "    raise ValidationFailed(errors, _('fine'))\n"                                          # 13: two
        "def h(errors):\n"
        "    raise ValidationFailed(errors)\n", encoding="utf-8")                                  # fine: not built here
    assert [line.split(": ", 1)[0] for line in english_field_errors(pkg)] == [
        "concierge/ops.py:2", "concierge/ops.py:3", "concierge/ops.py:4", "concierge/ops.py:5",
        "concierge/ops.py:13", "concierge/ops.py:13", "concierge/ops.py:13"]


def test_no_field_error_is_english_only():
    found = english_field_errors()
    assert not found, ("give ValidationFailed's field errors and its message through gettext with a `lang` "
                       "parameter (see operations/users.create_user):\n" + "\n".join(found))


def english_api_errors(root: Path = PACKAGE) -> list[str]:
    """`path:line: literal` for every `error_response(status, code, message, ...)` (the API's JSON
    error) whose message is English written in place."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and call_name(node.func) == "error_response"):
                continue
            message = node.args[2] if len(node.args) > 2 else next(
                (k.value for k in node.keywords if k.arg == "message"), None)
            if message is not None:
                found += [f"{path.relative_to(root.parent)}:{node.lineno}: {lit.value!r}" for lit in english(message)]
    return found


def test_the_scan_finds_english_api_errors(tmp_path):
    pkg = tmp_path / "concierge"
    pkg.mkdir()
    (pkg / "api.py").write_text(
        "def a():\n"
        "    return error_response(403, 'forbidden', 'This needs an admin token')\n"
        "def b(lang):\n"
        "    return error_response(404, 'not_found', translate(N_('No such shop'), lang))\n"
        "def c(x):\n"
        "    return error_response(401, 'unauthorized', message=f'token {x} is not valid')\n",
        encoding="utf-8")
    assert sorted({line.split(": ", 1)[0] for line in english_api_errors(pkg)}) == [
        "concierge/api.py:2", "concierge/api.py:6"]


def test_no_api_error_is_english_only():
    found = english_api_errors()
    assert not found, ("give the API error's message through gettext in the request's language "
                       "(translate(N_(...), request_language())):\n" + "\n".join(found))
