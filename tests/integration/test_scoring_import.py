"""`concierge import trials`: a team's own spreadsheet of past trials, then training on its schema."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import numpy as np
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from concierge.cli import cli
from concierge.models import DeadLetter, Observation, Shop

SCHEMA = {
    "version": 1, "languages": ["en", "pl", "tr"], "facets": ["owner", "business", "readiness"],
    "stages": ["setting_up", "launched"],
    "questions": [
        {"key": "business.kind", "type": "single_choice", "sources": ["import"],
         "label": {"en": "Kind", "pl": "Rodzaj", "tr": "Tür"},
         "choices": {k: {"en": k, "pl": k, "tr": k} for k in ("shop", "brand", "maker")}},
        {"key": "business.turnover", "type": "money", "currencies": ["PLN", "EUR"], "sources": ["import"],
         "label": {"en": "Turnover", "pl": "Obrót", "tr": "Ciro"}},
        {"key": "owner.hours", "type": "number", "sources": ["import"],
         "label": {"en": "Hours", "pl": "Godziny", "tr": "Saat"}},
        {"key": "readiness.payments", "type": "yes_no", "stage": "setting_up", "sources": ["import", "trial"],
         "label": {"en": "Payments", "pl": "Płatności", "tr": "Ödemeler"}},
        {"key": "owner.channels", "type": "multi_choice", "sources": ["import"],
         "label": {"en": "Channels", "pl": "Kanały", "tr": "Kanallar"},
         "choices": {k: {"en": k, "pl": k, "tr": k} for k in ("web", "social", "market")}},
    ],
}


def make_csv(n: int, seed: int = 0, bad_rows: int = 0) -> str:
    rng = np.random.default_rng(seed)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["shop", "started", "country", "business.kind", "business.turnover", "owner.hours",
                "readiness.payments", "owner.channels", "paid", "notes"])
    for i in range(n):
        hours = int(rng.integers(0, 50))
        pay = rng.random() < 0.5
        p = 1 / (1 + np.exp(-(-2.5 + 0.06 * hours + 1.5 * pay)))  # imbalanced: mostly not converted
        w.writerow([f"hist-{i}", (date(2024, 1, 1) + timedelta(days=int(i * 365 / n))).isoformat(),
                    ["PL", "TR"][i % 2], ["shop", "brand", "maker", ""][i % 4],
                    "" if i % 3 else f"{int(rng.integers(100, 90000))} PLN",
                    "" if i % 7 == 0 else hours, "yes" if pay else ("no" if i % 5 else ""),
                    "web;social".replace(";", ",") if i % 2 else "", "1" if rng.random() < p else "0", "free text"])
    for j in range(bad_rows):
        w.writerow([f"bad-{j}", "2024-13-45", "PL", "spaceship", "12 XXX", "lots", "maybe", "", "perhaps", ""])
    return out.getvalue()


def run(db_url, *args):
    return CliRunner().invoke(cli, list(args), env={"CONCIERGE_DATABASE_URL": db_url}, catch_exceptions=False)


def test_import_then_train_on_any_schema(database, db_url, tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump(SCHEMA, allow_unicode=True), encoding="utf-8")
    data = tmp_path / "history.csv"
    data.write_text(make_csv(1200, bad_rows=2), encoding="utf-8")
    r = run(db_url, "import", "trials", str(data), "--schema", str(schema), "--outcome", "paid",
            "--date", "started", "--market", "country", "--id", "shop", "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["rows"] == 1202 and rep["imported"] == 1200 and rep["dead_lettered"] == 2
    assert rep["unused_columns"] == ["notes"]
    bad = rep["errors"][0]["errors"]
    fields = {e["field"] for e in bad}
    assert {"paid", "started", "business.turnover", "owner.hours", "readiness.payments"} <= fields
    assert "business.kind" not in fields  # a value the schema does not list never rejects a row (issue 14)
    assert rep["outcomes"]["converted"] < rep["outcomes"]["not_converted"]
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Shop)) == 1200  # a bad row stores nothing
        assert s.scalar(select(func.count()).select_from(DeadLetter).where(DeadLetter.channel == "trial_import")) == 2
        dl = s.scalars(select(DeadLetter)).first()
        assert json.loads(dl.payload)["business.kind"] == "spaceship"  # verbatim
        assert s.scalar(select(func.count()).select_from(Observation).where(Observation.source == "import")) > 3000

    r = run(db_url, "model", "train", "--ages", "7", "--schema", str(schema), "--json")
    assert r.exit_code == 0, r.output
    card = json.loads(r.output)["card"]
    assert card["split"]["kind"] == "out_of_time"
    assert card["rows"]["finished"] == 1200
    assert card["metrics"]["auc"] > 0.6
    r = run(db_url, "score", "hist-5", "--json")
    assert r.exit_code == 0, r.output
    scored = json.loads(r.output)
    assert 0 < scored["probability"] < 1
    words = json.dumps(scored["reasons"]) + json.dumps(scored["path"])
    assert "business.kind" not in words or "Kind" in words  # reasons speak the schema's labels


def test_file_level_errors_name_the_column(database, db_url, tmp_path):
    data = tmp_path / "h.csv"
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    r = run(db_url, "import", "trials", str(data), "--outcome", "paid", "--default-market", "PL")
    assert r.exit_code != 0
    assert "'paid'" in r.output and "business.type" in r.output
    r = run(db_url, "import", "trials", str(data), "--outcome", "a", "--lang", "pl", "--default-market", "PL")
    assert "żadna kolumna" in r.output
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Shop)) == 0


def test_a_dead_lettered_row_replays_once_the_mapping_reads_its_value(database, db_url, tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump(SCHEMA, allow_unicode=True), encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump({"schema": "schema.yaml", "outcome": "paid", "id": "shop",
                                       "market": {"default": "PL"},
                                       "columns": {"Kind": "business.kind", "Hours": "owner.hours"}}), encoding="utf-8")
    data = tmp_path / "h.csv"
    data.write_text("shop,paid,Kind,Hours\nx1,1,shop,lots\nx2,0,spaceship,3\n", encoding="utf-8")
    r = run(db_url, "import", "trials", str(data), "--mapping", str(mapping), "--json")
    rep = json.loads(r.output)
    assert rep["dead_lettered"] == 1 and rep["imported"] == 1
    assert rep["errors"][0]["errors"][0]["column"] == "Hours"  # the file's column is named
    # "spaceship" is not a choice and this schema has no `other`: left empty and counted, not rejected
    assert rep["other_values"] == {"Kind": {"count": 1, "values": {"spaceship": 1}}}
    mapping.write_text(yaml.safe_dump({"schema": "schema.yaml", "outcome": "paid", "id": "shop",
                                       "market": {"default": "PL"},
                                       "columns": {"Kind": "business.kind",
                                                   "Hours": {"question": "owner.hours", "values": {"lots": 40}}}}),
                       encoding="utf-8")
    with database.sessionmaker() as s:
        dl_id = s.scalars(select(DeadLetter.id)).one()
    # through the shared command, as an operator would: `concierge deadletter replay ID`
    r = run(db_url, "deadletter", "replay", str(dl_id), "--json")
    assert r.exit_code == 0, r.output
    with database.sessionmaker() as s:
        assert s.get(DeadLetter, dl_id).status == "replayed"
        shop = s.scalars(select(Shop).where(Shop.platform_id == "x1")).one()
        assert shop.outcome == "converted"
        got = dict(s.execute(select(Observation.question, Observation.value).where(Observation.shop_id == shop.id)).all())
        assert got == {"business.kind": "shop", "owner.hours": 40}
