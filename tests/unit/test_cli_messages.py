"""The CLI speaks its reader's language (issue 15): no English-only sentence reaches the terminal.

An AST scan of concierge/cli/*.py: a string literal or f-string with words, given to
`click.echo`/`click.secho`, to `answer`/`answer_rows` as the sentence, or to a click exception,
must come out of a gettext call (`_`, `ngettext`, ...), not be written there in English. What
is printed through a variable or a helper is not seen here; a helper that builds sentences
takes the reader's gettext instead (e.g. concierge.scoring.train.split_line).
"""
from __future__ import annotations

import ast
from pathlib import Path

from tests.english import GETTEXT, call_name, english

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "concierge" / "cli"
#: Which argument of a call is text for people: {function name: positions}.
SENTENCE_ARGS = {"echo": (0,), "secho": (0,), "answer": (2,), "answer_rows": (2, 3), "ClickException": (0,),
                 "UsageError": (0,), "BadParameter": (0,), "Abort": (0,)}
#: Lines that legitimately print a literal with letters, as "file.py: the literal" (machine-readable
#: output, or a name that is the same in every language). Keep it short and say why.
ALLOWED: set[str] = {
    # `model evaluate`'s table header: metric names, kept as they are in every language
    "model.py: AUC", "model.py: Brier", "model.py: ECE",
    # `calls stats`' header: the contact centre's own abbreviations (transactional NPS, first contact resolution)
    "calls.py: tNPS", "calls.py: FCR",
}


def english_sentences(source: str, filename: str = "<cli>") -> list[str]:
    """Every "file:line: literal" where a CLI sentence is written in English only."""
    found = []
    for call in ast.walk(ast.parse(source, filename)):
        if not isinstance(call, ast.Call) or call_name(call.func) not in SENTENCE_ARGS:
            continue
        for pos in SENTENCE_ARGS[call_name(call.func)]:  # type: ignore[index]
            if pos < len(call.args):
                for const in english(call.args[pos]):
                    where = f"{filename}: {const.value}"
                    if where not in ALLOWED:
                        found.append(f"{filename}:{const.lineno}: {const.value!r}")
    return found


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_cli_sentences_go_through_gettext(path):
    assert english_sentences(path.read_text("utf-8"), path.name) == [], (
        "wrap the sentence in _() / ngettext() with %(name)s placeholders and add its translations")


def gettext_in_fstrings(source: str, filename: str = "<module>") -> list[str]:
    """Every gettext call inside an f-string: pybabel does not extract it, so it never reaches the catalogs."""
    return [f"{filename}:{call.lineno}: {ast.unparse(call)}" for node in ast.walk(ast.parse(source, filename))
            if isinstance(node, ast.JoinedStr) for call in ast.walk(node)
            if isinstance(call, ast.Call) and call_name(call.func) in GETTEXT]


def test_no_gettext_call_hides_in_an_fstring():
    found = [hit for pkg in ("concierge", "audits") for p in sorted((ROOT / pkg).rglob("*.py"))
             for hit in gettext_in_fstrings(p.read_text("utf-8"), p.relative_to(ROOT).as_posix())]
    assert found == [], "pybabel reads no f-string: call _() outside it and pass the text in"
    assert gettext_in_fstrings("x = f\"{_('SHOP'):<20}\"")


@pytest.mark.parametrize("code", [
    'click.echo(f"Planner stopped after {done} run(s).", err=True)',
    'click.echo("{:<20} {}".format("SHOP", _("NAME")))',
    'click.echo("WARNING " + warning_line(f))',
    'click.echo(f"Model {v}" + (" - active" if active else ""))',
    'click.echo(", ".join(f"{a} (train {n})" for a in ages))',
    'click.echo(_("Model %(v)s") % {"v": v, "note": "fallback model"})',
    'answer({"ok": True}, as_json, f"Active model: {name}")',
    'raise click.ClickException("no model yet")',
])
def test_the_guard_sees_an_english_sentence(code):
    assert english_sentences(code)


@pytest.mark.parametrize("code", [
    'click.echo(_("Planner stopped after %(num)d run(s).") % {"num": done}, err=True)',
    'click.echo(ngettext("%(num)d run", "%(num)d runs", n) % {"num": n})',
    'click.echo(f"{name:24}{cell(\'auc\'):>27}")',
    'click.echo(f"  {k}: {v}")',
    'click.echo(json.dumps(data) if as_json else _summary(data))',
    'click.echo(f"{b.get(\'auc\')} {x:.1f}")',
    'click.echo("{:<20} {}".format(_("SHOP"), name))',
    'answer({"version": name, "active": True}, as_json, _("Active model: %(v)s") % {"v": name})',
])
def test_the_guard_lets_translated_and_wordless_output_pass(code):
    assert english_sentences(code) == []
