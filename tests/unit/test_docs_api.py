"""docs/api.md's route table names every route of the HTTP API (issue 15: it had omitted some),
and nothing that is not one: the table is what integrators read first."""
from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
_ROW = re.compile(r"^\| `([A-Z`, ]+)` \| `([^`]+)`([^|]*)\|", re.M)


def _documented() -> set[tuple[str, str]]:
    rows = set()
    for methods, path, more in _ROW.findall(DOC.read_text("utf-8")):
        # "`/api/v1/shops/{shop}/picture.svg`, `.png`" is one row for two routes
        paths = [path] + [path.rsplit(".", 1)[0] + ext for ext in re.findall(r"`(\.\w+)`", more)]
        for method in re.findall(r"[A-Z]+", methods):
            for one in paths:
                rows.add((method, one))
    return rows


def _served(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "{%s}" % {"event_id": "id", "call_id": "id", "key": "report"}.get(m.group(1), m.group(1)), rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method, path))
    return routes


def test_the_route_table_lists_every_api_route_and_no_other(tmp_path):
    from concierge import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite'}",
                      "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "x" * 32})
    served, documented = _served(app), _documented()
    assert served, "no API route found: the app did not register its API"
    assert served - documented == set(), "routes missing from docs/api.md's table"
    assert documented - served == set(), "docs/api.md lists routes the API does not serve"
