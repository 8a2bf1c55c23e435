"""The CLI speaks its reader's language (issue 15, item 3): the command's own --lang when given, else
CONCIERGE_LANG, else the POSIX locale (LC_ALL, LC_MESSAGES, LANG), else English; --json is the same
in every language. Real SQLite and PostgreSQL, real catalogs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from concierge import i18n
from concierge.cli import cli, reader_language

#: Every language setting the CLI reads, unset (None removes a variable in CliRunner's env).
NO_LANGUAGE = {"CONCIERGE_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


@pytest.fixture
def run(database, db_url):
    runner = CliRunner()

    def invoke(*args, input=None, **env):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False,
                             env={**NO_LANGUAGE, "CONCIERGE_DATABASE_URL": db_url, "CONCIERGE_ACTOR": "kasia", **env})
    return invoke


@pytest.mark.parametrize("env, lang", [
    ({}, "en"),
    ({"CONCIERGE_LANG": "pl"}, "pl"),
    ({"LANG": "pl_PL.UTF-8"}, "pl"),
    ({"LANG": "hi_IN.UTF-8"}, "hi"),
    ({"LC_MESSAGES": "tr_TR.UTF-8", "LANG": "pl_PL.UTF-8"}, "tr"),
    ({"LC_ALL": "hi_IN", "LC_MESSAGES": "tr_TR.UTF-8", "LANG": "pl_PL.UTF-8"}, "hi"),
    ({"LC_ALL": "C.UTF-8", "LANG": "pl_PL.UTF-8"}, "en"),        # LC_ALL wins, and C is English
    ({"LANG": "de_DE.UTF-8"}, "en"),                             # a language we do not speak
    ({"CONCIERGE_LANG": "tr", "LC_ALL": "pl_PL.UTF-8"}, "tr"),   # ours before the locale
    ({"CONCIERGE_LANG": "xx", "LANG": "pl_PL.UTF-8"}, "pl"),     # an unknown setting falls through
])
def test_reader_language_order(monkeypatch, env, lang):
    for name in NO_LANGUAGE:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert reader_language() == lang
    assert reader_language("pl") == "pl"  # a command's --lang given on the command line wins


def test_concierge_lang_pl_prints_polish(run):
    assert run("shops", CONCIERGE_LANG="pl").output == "Brak sklepów.\n"
    assert run("shops").output == "No shops.\n"  # nothing set: English, byte for byte


def test_posix_locale_hi_prints_hindi(run):
    assert run("shops", LANG="hi_IN.UTF-8").output == "कोई दुकान नहीं।\n"
    assert run("calls", "list", LANG="hi_IN.UTF-8").output == "कोई योजनाबद्ध कॉल मेल नहीं खाती।\n"


def test_a_given_lang_option_wins_and_its_default_does_not(run):
    assert run("calls", "list", "--lang", "pl", CONCIERGE_LANG="tr").output == "Żadna zaplanowana rozmowa nie pasuje.\n"
    assert run("calls", "list", CONCIERGE_LANG="tr").output == "Eşleşen planlanmış arama yok.\n"


def test_plural_forms_follow_the_language(monkeypatch):
    from concierge.cli import ngettext

    one, many = "Wrote %(file)s (%(num)d rows).", "Wrote %(file)s (%(num)d rows)."
    monkeypatch.setenv("CONCIERGE_LANG", "pl")
    assert [ngettext(one, many, n) % {"file": "a.zip", "num": n} for n in (1, 3, 5)] == [
        "Zapisano a.zip (1 wiersz).", "Zapisano a.zip (3 wiersze).", "Zapisano a.zip (5 wierszy)."]
    monkeypatch.setenv("CONCIERGE_LANG", "hi")
    assert ngettext(one, many, 1) % {"file": "a.zip", "num": 1} == "a.zip लिखी गई (1 पंक्ति)।"
    assert ngettext(one, many, 2) % {"file": "a.zip", "num": 2} == "a.zip लिखी गई (2 पंक्तियाँ)।"


def test_user_sentences_in_polish_and_hindi(run):
    r = run("users", "create", "jan@example.com", "--role", "consultant", "--name", "Jan",
            "--password-stdin", input="a good password\n", CONCIERGE_LANG="pl")
    assert r.exit_code == 0, r.output
    assert r.output == "Utworzono consultant jan@example.com (Jan).\n"
    r = run("users", "list", LANG="hi_IN.UTF-8")
    assert r.output.startswith("consultant  jan@example.com")


def test_json_is_the_same_in_every_language(run):
    r = run("users", "create", "eva@example.com", "--role", "manager", "--name", "Eva", "--password-stdin",
            "--json", input="a good password\n")
    assert r.exit_code == 0
    outputs = {}
    for lang in ("en", "pl", "tr", "hi"):
        listed = run("users", "list", "--json", CONCIERGE_LANG=lang)
        missing = run("survey", "revoke", "999", "--json", CONCIERGE_LANG=lang)
        outputs[lang] = (listed.output, missing.exit_code, missing.output)
    assert json.loads(outputs["en"][0])[0]["email"] == "eva@example.com"
    assert json.loads(outputs["en"][2])["error"]  # the error comes as JSON
    assert len(set(outputs.values())) == 1, outputs


def test_a_usage_error_is_translated(run):
    r = run("callback", "request", "x", "--now", "--at", "2026-03-02T09:00:00+01:00", CONCIERGE_LANG="tr")
    assert r.exit_code == 2
    assert "--now ya da --at verin, ikisini birden değil" in r.output
    r = run("shops", "--trial-from", "nope", CONCIERGE_LANG="pl")  # a filter's reason, from the operations
    assert r.exit_code == 2 and "nope nie jest datą (RRRR-MM-DD)" in r.output


def test_the_advice_before_init_follows_the_locale(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in NO_LANGUAGE}
    env.update(CONCIERGE_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite'}", LANG="pl_PL.UTF-8",
               PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", "from concierge.cli import main; main()", "shops"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Błąd: baza danych nie ma jeszcze tabel Concierge" in proc.stderr
    assert "Najpierw uruchom `concierge init`." in proc.stderr


def test_the_cli_sentences_are_extracted_into_the_catalogs():
    """The completeness tests read what extraction finds: the CLI's sentences are among it."""
    used = i18n.source_messages()
    for msgid in ("No shops.", "Cancelled call %(id)s (%(shop)s).", "Error: %(message)s"):
        assert msgid in used
        for lang in i18n.TRANSLATED:
            assert msgid in i18n.catalog_message_ids(lang)
    assert used["Recorded %(num)d answer(s) for %(shop)s (submission %(submission)s)."]  # a plural


def test_no_active_model_in_the_reader_language(run):
    hindi = "कोई सक्रिय मॉडल नहीं: पहले `concierge model train` चलाएँ"
    for args in (("model", "show"), ("model", "evaluate", "--bootstrap", "0")):
        r = run(*args, LANG="hi_IN.UTF-8")
        assert r.exit_code == 1 and hindi in r.output, r.output
        r = run(*args)
        assert r.exit_code == 1 and "no active model: run `concierge model train` first" in r.output, r.output
        r = run(*args, "--json", LANG="hi_IN.UTF-8")  # --json: the same in every locale
        assert json.loads(r.stdout) == {"error": "not_found",
                                        "message": "no active model: run `concierge model train` first"}
    r = run("score", "--all", "--lang", "pl")  # the command's --lang
    assert r.exit_code == 1 and "brak aktywnego modelu: najpierw uruchom `concierge model train`" in r.output


def test_operations_errors_in_the_reader_language(run):
    """The errors the operations raise (an unknown user, token, model version, dead letter) come
    in the reader's language; under --json in English, the same in every locale."""
    cases = [
        (("users", "logout", "nobody@example.com"), "pl",
         "email: nie ma użytkownika z adresem e-mail nobody@example.com",
         "email: no user with e-mail nobody@example.com"),
        (("token", "revoke", "9999"), "tr", "kimliği veya öneki '9999' olan API belirteci yok",
         "no API token with id or prefix '9999'"),
        (("model", "show", "v-none"), "hi", "मॉडल संस्करण 'v-none' नहीं है: सहेजे गए संस्करण `concierge model list` दिखाता है",
         "no model version 'v-none': `concierge model list` shows the stored ones"),
        (("model", "activate", "v-none"), "pl", "nie ma wersji modelu 'v-none'", "no model version 'v-none'"),
        (("deadletter", "replay", "424242"), "hi", "ID 424242 वाला कोई डेड लेटर नहीं है",
         "no dead letter with id 424242"),
    ]
    for args, lang, translated, english in cases:
        r = run(*args, CONCIERGE_LANG=lang)
        assert r.exit_code == 1 and translated in r.output, (args, r.output)
        r = run(*args)
        assert r.exit_code == 1 and english in r.output, (args, r.output)
        r = run(*args, "--json", CONCIERGE_LANG=lang)
        assert json.loads(r.stdout)["message"] == english, (args, r.stdout)
