"""Serving under load (issue 13): the production server against a bare Flask app, and ingest against raw sqlite3.

Targets (issue 13, "Done means"), all measured side by side in one run on the same host:

- the shop page (logged in, a random demo shop per request) >= 25 % of a bare Flask
  hello-world's throughput, on SQLite and on PostgreSQL with the 20k demo;
- the events webhook (POST /api/v1/events, a unique valid event per request) >= 50 % of a
  bare Flask POST that parses the same JSON;
- p99 of the shop page <= 150 ms at 8 concurrent clients;
- `concierge ingest events` of 100k events >= 30 % of the speed of raw sqlite3
  `executemany` storing the same rows into an identical schema.

How. The 20k demo (`concierge demo --shops 20000 --today 2026-11-23`, then `concierge model
train`, so the webhook scores with a real active model) is loaded once per database: a
SQLite file and a PostgreSQL schema (`bench_serving_demo20k` in the database named by
CONCIERGE_BENCH_POSTGRES_URL, default the local `test`). With --reuse they are kept in
--cache (default /tmp/concierge-bench-serving) and used again by later runs (`concierge
init` still runs: new migrations apply); without it they are built in a temporary place and
dropped. The real production server (`concierge serve --production`: gunicorn with
concierge/gunicorn_conf.py, Redis for the rate limits) and a bare Flask app (this file's
bare_app(): `GET /` hello world, `POST /post` parses the JSON body) run under the same
gunicorn settings (workers, gthread threads, keep-alive, access log to a discarded stdout).
The API's per-token budget is raised (CONCIERGE_RATE_LIMIT_API) so the limiter still counts
every request but never refuses one.

The load: --clients (8) keep-alive connections for --duration seconds each (after a few
seconds of warm-up), by `wrk` when it is installed (a Lua script picks a random shop or
makes a unique event per request), else by this script's own client (one process per
connection, http.client). Requests are measured in turn, never two at once: bare GET,
shop page, bare POST, webhook, per database. Webhook events are product_added,
store_details_completed, theme_published and domain_connected of random demo shops, with
ids unique to the run (they stay in a reused database: a few thousand over 20k shops).

Then `concierge ingest events FILE` (the command, a subprocess) of bench_ingest's 100k
events into a fresh SQLite, and the rows it stored (every table it wrote: shops, trial
events, observations, shop_state) stored again by plain sqlite3 executemany, one
transaction, same PRAGMAs, into a fresh database made by the same migrations (same tables,
indexes and constraints); the rows are read before that clock starts. The raw store runs
twice, right after the command; their mean is the baseline.

Progress goes to stderr. Prints a table and JSON lines (a "bench" key each).
Usage: python benchmarks/bench_serving.py [--duration S] [--clients N] [--reuse] [--cache DIR]
           [--only sqlite|postgresql|ingest ...] [--cases all|shop|webhook] [--client auto|wrk|python] [--shops N] [--events N]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
PG_URL = os.environ.get("CONCIERGE_BENCH_POSTGRES_URL",
                        os.environ.get("CONCIERGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
PG_SCHEMA = "bench_serving_demo20k"
TODAY = "2026-11-23"
PASSWORD = "bench serving password"
MANAGER = "bench-serving@example.com"
TARGETS = {"shop_ratio": 0.25, "webhook_ratio": 0.50, "shop_p99_ms": 150.0, "ingest_ratio": 0.30}
WEBHOOK_TYPES = ("product_added", "store_details_completed", "theme_published", "domain_connected")


# --------------------------------------------------------------------------- the bare app

def bare_app():
    """The baseline: Flask and nothing else (gunicorn imports this file with only the stdlib loaded)."""
    from flask import Flask, jsonify, request

    app = Flask("bare")

    @app.get("/")
    def hello():
        return "Hello, World!"

    @app.post("/post")
    def post():
        body = request.get_json()
        return jsonify({"id": body.get("id"), "status": "stored"}), 201

    return app


# --------------------------------------------------------------------------- helpers

def log(msg: str) -> None:
    print(f"[bench_serving {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def concierge_bin() -> list[str]:
    return [sys.executable, "-m", "concierge.cli"] if not (Path(sys.executable).parent / "concierge").exists() \
        else [str(Path(sys.executable).parent / "concierge")]


def cli(env: dict, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run([*concierge_bin(), *args], env=env, cwd=ROOT, input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"concierge {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def base_env(url: str, instance: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCIERGE_")}
    env.update({"CONCIERGE_DATABASE_URL": url, "CONCIERGE_INSTANCE_PATH": str(instance),
                "CONCIERGE_SECRET_KEY": "bench-serving-secret-key-0123456789", "PYTHONPATH": str(ROOT)})
    return env


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def git_state() -> dict:
    def run(*a):
        p = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, check=False)
        return p.stdout.strip()
    return {"commit": run("rev-parse", "--short", "HEAD"), "dirty_files": len(run("status", "--porcelain").splitlines())}


# --------------------------------------------------------------------------- the population

def pg_schema_url(name: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{name}"


def prepare(kind: str, shops: int, cache: Path, reuse: bool) -> tuple[str, dict]:
    """The demo database for `kind` (sqlite/postgresql): built, or reused; returns (url, env)."""
    from sqlalchemy import create_engine, text

    instance = cache / f"instance-{kind}"
    instance.mkdir(parents=True, exist_ok=True)
    marker = cache / f"{kind}.json"
    if kind == "sqlite":
        url = f"sqlite:///{cache / 'demo20k.sqlite'}"
        schema = None
    else:
        schema = PG_SCHEMA if reuse else f"bench_serving_{os.getpid()}"
        url = pg_schema_url(schema)
    env = base_env(url, instance)
    want = {"shops": shops, "today": TODAY, "schema": schema}
    if reuse and marker.exists():
        have = json.loads(marker.read_text())
        exists = True
        if schema is not None:
            admin = create_engine(PG_URL)
            with admin.connect() as c:
                exists = c.execute(text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
                                   {"s": schema}).first() is not None
            admin.dispose()
        else:
            exists = Path(url.removeprefix("sqlite:///")).exists()
        if exists and all(have.get(k) == v for k, v in want.items()):
            log(f"{kind}: reusing the {shops:,}-shop demo ({have.get('built_at')}); concierge init")
            cli(env, "init")
            return url, env
    log(f"{kind}: building the {shops:,}-shop demo (takes minutes; --reuse keeps it)")
    marker.unlink(missing_ok=True)
    if schema is not None:
        admin = create_engine(PG_URL)
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    cli(env, "init")
    demo = json.loads(cli(env, "demo", "--shops", str(shops), "--today", TODAY, "--json"))
    t1 = time.perf_counter()
    log(f"   loaded {demo['shops']:,} shops, {demo['events']:,} events in {t1 - t0:.0f} s; training the model")
    card = json.loads(cli(env, "model", "train", "--json"))
    t2 = time.perf_counter()
    log(f"   model trained in {t2 - t1:.0f} s ({card.get('version', '?')})")
    cli(env, "users", "create", MANAGER, "--role", "manager", "--password-stdin", stdin=PASSWORD + "\n")
    marker.write_text(json.dumps({**want, "built_at": time.strftime("%Y-%m-%d %H:%M"), "events": demo["events"],
                                  "load_s": round(t1 - t0), "train_s": round(t2 - t1)}))
    return url, env


def demo_shops(url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as c:
        ids = [r[0] for r in c.execute(text("SELECT platform_id FROM shop ORDER BY id"))]
    eng.dispose()
    return ids


def inbox_drain(url: str, limit: float = 900.0) -> dict:
    """The events inbox when the webhook case ends (queued mode, the production default), then the
    seconds until the server's events worker has applied it all (polled once a second)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    try:
        with eng.connect() as c:
            try:
                backlog = c.execute(text("SELECT count(*) FROM event_inbox")).scalar() or 0
            except Exception:  # noqa: BLE001 - no inbox table: inline mode only
                return {"queued_mode": False}
        t0, left = time.monotonic(), backlog
        while left and time.monotonic() - t0 < limit:
            time.sleep(1.0)
            with eng.connect() as c:
                left = c.execute(text("SELECT count(*) FROM event_inbox")).scalar() or 0
        secs = time.monotonic() - t0
    finally:
        eng.dispose()
    applied = backlog - left
    log(f"   inbox at the end of the webhook case: {backlog:,} events; {applied:,} applied in {secs:.1f} s"
        f" ({applied / secs if secs > 0 else 0:.0f} events/s), {left:,} left")
    return {"queued_mode": True, "backlog_at_end": backlog, "drain_s": round(secs, 1), "drain_left": left,
            "drain_events_per_s": round(applied / secs, 1) if secs > 0 and applied else None}


def drop_schema(url: str) -> None:
    from sqlalchemy import create_engine, text

    name = url.rsplit("%3D", 1)[1]
    admin = create_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    admin.dispose()


# --------------------------------------------------------------------------- servers

class Server:
    """A gunicorn server in its own process group; stdout (the access log) is discarded."""

    def __init__(self, label: str, argv: list[str], env: dict, port: int, logdir: Path, health: str):
        self.label, self.port = label, port
        self.errlog = logdir / f"{label}.stderr.log"
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=open(self.errlog, "w"), start_new_session=True)  # noqa: SIM115
        deadline = time.time() + 90
        import http.client

        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{label} exited ({self.proc.returncode}); see {self.errlog}:\n"
                                 + self.errlog.read_text()[-2000:])
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", health)
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit(f"{label} did not answer {health} in 90 s; see {self.errlog}")

    def stop(self) -> None:
        from concierge.cli.core import stop_child

        stop_child(self.proc, grace=40, group=True)


def server_env(env: dict, redis_url: str | None) -> dict:
    env = dict(env)
    env["CONCIERGE_RATE_LIMIT_API"] = "1000000 per minute"  # counted on every request, never refused
    env["CONCIERGE_RATE_LIMIT_LOGIN"] = "1000 per minute"
    if redis_url:
        env["CONCIERGE_REDIS_URL"] = redis_url
        env["CONCIERGE_RATE_LIMIT_KEY_PREFIX"] = f"bench-serving-{os.getpid()}"
    return env


def start_concierge(kind: str, env: dict, logdir: Path, redis_url: str | None) -> Server:
    port = free_port()
    argv = [*concierge_bin(), "serve", "--production", "--host", "127.0.0.1", "--port", str(port)]
    return Server(f"concierge-{kind}", argv, server_env(env, redis_url), port, logdir, "/healthz")


def start_bare(logdir: Path) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCIERGE_")}
    env["PYTHONPATH"] = str(ROOT)
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:concierge.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
            "--chdir", str(BENCH), "--name", "bare-flask", "bench_serving:bare_app()"]
    return Server("bare-flask", argv, env, port, logdir, "/")


def login_cookie(port: int) -> str:
    """Log the manager in through the real form (CSRF token and all); the session cookie."""
    import http.client
    import re
    from http.cookies import SimpleCookie

    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/login")
    r = c.getresponse()
    html = r.read().decode()
    jar = SimpleCookie()
    for v in r.headers.get_all("Set-Cookie") or []:
        jar.load(v)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    from urllib.parse import urlencode

    body = urlencode({"csrf_token": token.group(1) if token else "", "email": MANAGER, "password": PASSWORD})
    c.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                   "Cookie": "; ".join(f"{k}={m.value}" for k, m in jar.items())})
    r = c.getresponse()
    r.read()
    for v in r.headers.get_all("Set-Cookie") or []:
        jar.load(v)
    if r.status != 302 or "login" in (r.getheader("Location") or ""):
        raise SystemExit(f"login failed: {r.status} {r.getheader('Location')}")
    c.close()
    return "; ".join(f"{k}={m.value}" for k, m in jar.items())


def make_tokens(env: dict, n: int) -> list[str]:
    return [json.loads(cli(env, "token", "create", f"bench-serving-{os.getpid()}-{i}", "--json"))["token"]
            for i in range(n)]


# --------------------------------------------------------------------------- the load

def event_body(run: str, client: int, n: int, shop: str, rnd: random.Random) -> bytes:
    etype = WEBHOOK_TYPES[n % len(WEBHOOK_TYPES)]
    data = {"product_added": {"count": rnd.randint(1, 5)}, "domain_connected": {"domain": f"{shop}.example.com"}}
    return json.dumps({"id": f"bench-{run}-{client}-{n}", "shop": shop, "type": etype,
                       "occurred_at": f"{TODAY}T{rnd.randint(8, 20):02d}:{rnd.randint(0, 59):02d}:00+00:00",
                       "data": data.get(etype, {})}).encode()


def _client_loop(port: int, spec: dict, client: int, warm_until: float, until: float, out) -> None:
    import http.client

    rnd = random.Random(client * 7919 + os.getpid())
    shops = spec.get("shops") or []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    lat: list[float] = []
    statuses: dict[int, int] = {}
    n = 0
    while True:
        now = time.perf_counter()
        if now >= until:
            break
        n += 1
        if spec["kind"] == "get":
            method, path, body, headers = "GET", spec["path"], None, {}
        elif spec["kind"] == "shop":
            method, path, body = "GET", f"/shops/{rnd.choice(shops)}", None
            headers = {"Cookie": spec["cookie"]}
        else:
            method, path = "POST", spec["path"]
            body = event_body(spec["run"], client, n, rnd.choice(shops), rnd)
            headers = {"Content-Type": "application/json"}
            if spec.get("tokens"):
                headers["Authorization"] = f"Bearer {spec['tokens'][client % len(spec['tokens'])]}"
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            status = r.status
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        t1 = time.perf_counter()
        if t0 >= warm_until:
            lat.append(t1 - t0)
            statuses[status] = statuses.get(status, 0) + 1
    conn.close()
    out.put({"lat": lat, "statuses": statuses})


def load_python(port: int, spec: dict, clients: int, duration: float, warmup: float) -> dict:
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    q = ctx.Queue()
    start = time.perf_counter() + 0.2
    warm_until, until = start + warmup, start + warmup + duration
    procs = [ctx.Process(target=_client_loop, args=(port, spec, i, warm_until, until, q)) for i in range(clients)]
    for p in procs:
        p.start()
    parts = [q.get() for _ in procs]
    for p in procs:
        p.join()
    lat = [x for p in parts for x in p["lat"]]
    statuses: dict[int, int] = {}
    for p in parts:
        for k, v in p["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    return summarise(lat, statuses, duration)


def summarise(lat: list[float], statuses: dict[int, int], duration: float) -> dict:
    ok = sum(v for k, v in statuses.items() if 200 <= k < 400)
    return {"requests": sum(statuses.values()), "ok": ok, "errors": sum(statuses.values()) - ok,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "rps": round(ok / duration, 1),
            "p50_ms": round(pct(lat, 50) * 1000, 1) if lat else None,
            "p95_ms": round(pct(lat, 95) * 1000, 1) if lat else None,
            "p99_ms": round(pct(lat, 99) * 1000, 1) if lat else None}


WRK_LUA = r"""
local kind, path, cookie, run = "%(kind)s", "%(path)s", "%(cookie)s", "%(run)s"
local tokens = {%(tokens)s}
local types = {"product_added", "store_details_completed", "theme_published", "domain_connected"}
local nthreads = 0
threads_list = {}
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  threads_list[#threads_list + 1] = thread
end
function init(args)
  shops = {}
  for line in io.lines("%(shops_file)s") do shops[#shops + 1] = line end
  math.randomseed(tid * 7919 + os.time())
  n = 0
  token = tokens[(tid %% math.max(#tokens, 1)) + 1]
end
function response(status, headers, body)
  if status >= 300 then _G["c" .. status] = (_G["c" .. status] or 0) + 1 end
end
function request()
  n = n + 1
  local shop = shops[math.random(#shops)]
  if kind == "get" then
    return wrk.format("GET", path)
  elseif kind == "shop" then
    return wrk.format("GET", "/shops/" .. shop, {["Cookie"] = cookie})
  end
  local t = types[(n %% 4) + 1]
  local data = "{}"
  if t == "product_added" then data = '{"count": ' .. math.random(1, 5) .. '}'
  elseif t == "domain_connected" then data = '{"domain": "' .. shop .. '.example.com"}' end
  local body = string.format('{"id": "bench-%%s-w%%d-%%d", "shop": "%%s", "type": "%%s", '
    .. '"occurred_at": "%(today)sT%%02d:%%02d:00+00:00", "data": %%s}',
    run, tid, n, shop, t, math.random(8, 20), math.random(0, 59), data)
  local headers = {["Content-Type"] = "application/json"}
  if token then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("POST", path, headers, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  local all = {}
  for _, t in ipairs(threads_list) do
    for _, code in ipairs({301, 302, 400, 401, 403, 404, 409, 415, 422, 429, 500, 502, 503, 504}) do
      local c = t:get("c" .. code)
      if c and c > 0 then all[#all + 1] = string.format('"%%d": %%d', code, c) end
    end
  end
  io.write("WRKCODES {" .. table.concat(all, ", ") .. "}\n")
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "non2xx": %%d, "socket_errors": %%d, '
    .. '"p50_us": %%d, "p95_us": %%d, "p99_us": %%d}\n', summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99)))
end
"""


def load_wrk(port: int, spec: dict, clients: int, duration: float, warmup: float, tmp: Path) -> dict:
    shops_file = tmp / "shops.txt"
    if not shops_file.exists():
        shops_file.write_text("\n".join(spec["shops"]) + "\n")
    threads = min(2, clients)

    def wrk(phase: str, secs: float) -> subprocess.CompletedProcess:
        script = tmp / f"{spec['kind']}-{phase}.lua"  # event ids unique to the phase: no id sent twice
        script.write_text(WRK_LUA % {"kind": spec["kind"], "path": spec.get("path", ""),
                                     "cookie": spec.get("cookie", ""), "run": f"{spec.get('run', 'x')}{phase}",
                                     "tokens": ", ".join(f'"{t}"' for t in spec.get("tokens") or []),
                                     "shops_file": shops_file, "today": TODAY})
        return subprocess.run(["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{max(1, round(secs))}s",
                               "-s", str(script), "--timeout", "30s", f"http://127.0.0.1:{port}{spec.get('path', '/')}"],
                              capture_output=True, text=True, check=False)

    wrk("warm", warmup)
    proc = wrk("run", duration)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no summary:\n{proc.stdout}\n{proc.stderr}")
    d = json.loads(line[8:])
    codes = next((json.loads(ln[9:]) for ln in proc.stdout.splitlines() if ln.startswith("WRKCODES ")), {})
    secs = d["duration_us"] / 1e6
    errors = d["non2xx"] + d["socket_errors"]
    return {"requests": d["requests"], "ok": d["requests"] - errors, "errors": errors,
            "statuses": {"non2xx": d["non2xx"], "socket": d["socket_errors"], **codes},
            "rps": round((d["requests"] - errors) / secs, 1), "p50_ms": round(d["p50_us"] / 1000, 1),
            "p95_ms": round(d["p95_us"] / 1000, 1), "p99_ms": round(d["p99_us"] / 1000, 1)}


def one_request(port: int, spec: dict, n: int, rnd: random.Random) -> float:
    """One request of `spec` on a new connection (new connections spread over the workers); its seconds."""
    import http.client

    shops = spec.get("shops") or ["x"]
    headers = {}
    body = None
    if spec["kind"] == "get":
        method, path = "GET", spec["path"]
    elif spec["kind"] == "shop":
        method, path, headers = "GET", f"/shops/{rnd.choice(shops)}", {"Cookie": spec["cookie"]}
    else:
        method, path = "POST", spec["path"]
        body = event_body(spec["run"] + "w", 99, n, rnd.choice(shops), rnd)
        headers = {"Content-Type": "application/json"}
        if spec.get("tokens"):
            headers["Authorization"] = f"Bearer {spec['tokens'][0]}"
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    r.read()
    c.close()
    if r.status >= 400:
        raise SystemExit(f"warm-up {method} {path}: {r.status}")
    return time.perf_counter() - t0


def warm_workers(port: int, spec: dict, workers: int) -> None:
    """Rounds of 2 x workers requests at once until a round has no slow request: every worker has
    imported what the route needs and loaded the model (first use: seconds), which is not the
    steady state measured."""
    from concurrent.futures import ThreadPoolExecutor

    t0, n = time.perf_counter(), 0
    with ThreadPoolExecutor(2 * workers) as pool:
        for k in range(60):
            times = list(pool.map(lambda i, n=n: one_request(port, spec, n + i, random.Random(n + i)),
                                  range(2 * workers)))
            n += 2 * workers
            if k >= 2 and max(times) < 2.0:
                break
    log(f"   warmed {n} requests in {time.perf_counter() - t0:.1f} s (last round's slowest {max(times):.2f} s)")


def measure(label: str, port: int, spec: dict, args, tmp: Path) -> dict:
    warm_workers(port, spec, args.workers)
    la = load_avg()
    res = (load_wrk(port, spec, args.clients, args.duration, args.warmup, tmp) if args.client_tool == "wrk"
           else load_python(port, spec, args.clients, args.duration, args.warmup))
    res.update({"case": label, "load_avg_before": la, "load_avg_after": load_avg()})
    log(f"   {label:<34} {res['rps']:>8.1f} req/s  p50 {res['p50_ms']} ms  p99 {res['p99_ms']} ms"
        f"  errors {res['errors']} {res['statuses'] if res['errors'] else ''}")
    return res


def run_serving(kind: str, args, bare: Server, cache: Path, tmp: Path) -> list[dict]:
    url, env = prepare(kind, args.shops, cache, args.reuse)
    shops = demo_shops(url)
    run = f"{int(time.time())}{os.getpid()}"
    redis_url = args.redis or None
    server = start_concierge(kind, env, cache if args.reuse else tmp, redis_url)  # reused: its log kept
    try:
        cookie = login_cookie(server.port)
        tokens = make_tokens(env, args.clients)
        log(f"{kind}: {len(shops):,} shops; concierge on :{server.port}, bare Flask on :{bare.port}; "
            f"{args.clients} clients x {args.duration:.0f} s ({args.client_tool})")
        rows = []
        if args.cases in ("all", "shop"):
            rows += [
                measure("bare Flask GET /", bare.port, {"kind": "get", "path": "/", "shops": shops}, args, tmp),
                measure(f"shop page ({kind})", server.port, {"kind": "shop", "cookie": cookie, "shops": shops},
                        args, tmp)]
        if args.cases in ("all", "webhook"):
            rows += [
                measure("bare Flask POST (JSON)", bare.port,
                        {"kind": "post", "path": "/post", "shops": shops, "run": run + "b"}, args, tmp),
                measure(f"events webhook ({kind})", server.port,
                        {"kind": "post", "path": "/api/v1/events", "shops": shops, "tokens": tokens, "run": run},
                        args, tmp)]
            rows[-1].update(inbox_drain(url))  # queued mode: what the webhook left for the events worker
    except SystemExit:
        log(f"{server.label}'s error log ends:\n" + server.errlog.read_text()[-4000:])
        raise
    finally:
        server.stop()
        if not args.reuse and kind == "postgresql":
            drop_schema(url)
    for r in rows:
        r["database"] = kind
    return rows


# --------------------------------------------------------------------------- ingest vs raw executemany

def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def raw_store(target: str, tables: list[tuple[str, list[str], list[tuple]]]) -> float:
    """Store the rows with plain sqlite3: same PRAGMAs as the app, one transaction, executemany per table."""
    t0 = time.perf_counter()
    con = sqlite3.connect(target, isolation_level=None)
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("BEGIN")
    for name, cols, rows in tables:
        con.executemany(f'INSERT INTO "{name}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})', rows)
    con.execute("COMMIT")
    con.close()
    return time.perf_counter() - t0


def run_ingest(args, tmp: Path) -> dict:
    sys.path.insert(0, str(BENCH))
    from bench_ingest import generate

    folder = tmp / "ingest"
    folder.mkdir()
    jsonl = folder / "events.jsonl"
    n = generate(jsonl, args.events, args.events * 7 // 100, 7)
    log(f"ingest: {n:,} events in {jsonl.stat().st_size / 1e6:.1f} MB")

    def fresh(name: str) -> tuple[str, dict]:
        url = f"sqlite:///{folder / name}"
        env = base_env(url, folder / f"instance-{name}")
        cli(env, "init")
        return url, env

    empty_url, _ = fresh("empty.sqlite")
    url, env = fresh("concierge.sqlite")
    before = {}
    con = sqlite3.connect(_sqlite_path(empty_url))
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                       " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for t in names:
        before[t] = con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
    con.close()

    raw_cpu: list[float] = []

    def raw_run(label: str) -> float:
        target, _ = fresh(f"raw-{label}.sqlite")
        c0 = time.process_time()
        secs = raw_store(_sqlite_path(target), tables)
        raw_cpu.append(time.process_time() - c0)
        log(f"   raw sqlite3 executemany ({label}): {secs:.2f} s (CPU {raw_cpu[-1]:.2f} s)")
        return secs

    log("   concierge ingest events ...")
    r0 = os.times()
    t0 = time.perf_counter()
    summary = json.loads(cli(env, "ingest", "events", str(jsonl), "--json"))
    secs = time.perf_counter() - t0
    r1 = os.times()
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    log(f"   concierge ingest events: {secs:.2f} s (CPU {cpu:.2f} s): {summary['stored']:,} stored")
    tables = read_rows(_sqlite_path(url), names, before)  # the rows it stored, read before the raw clock
    raw1, raw2 = raw_run("1"), raw_run("2")
    con = sqlite3.connect(_sqlite_path(f"sqlite:///{folder / 'raw-1.sqlite'}"))
    same = all(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] == len(r) for t, _, r in tables)
    con.close()
    raw = (raw1 + raw2) / 2
    counts = {t: len(r) for t, _, r in tables}
    return {"bench": "serving: ingest events vs raw sqlite3", "events": n, "stored": summary["stored"],
            "duplicates": summary["duplicates"], "rejected": summary["rejected"], "rows": counts,
            "concierge_s": round(secs, 2), "concierge_cpu_s": round(cpu, 2), "raw_s": round(raw, 2),
            "raw_runs_s": [round(raw1, 2), round(raw2, 2)], "raw_cpu_s": round(sum(raw_cpu) / len(raw_cpu), 2),
            "same_row_counts": same, "ratio": round(raw / secs, 3),
            "cpu_ratio": round(sum(raw_cpu) / len(raw_cpu) / cpu, 3) if cpu else None, "target_ratio": TARGETS["ingest_ratio"],
            "ok": raw / secs >= TARGETS["ingest_ratio"], "load_avg": load_avg()}


def read_rows(path: str, names: list[str], before: dict[str, int]) -> list[tuple[str, list[str], list[tuple]]]:
    """Every row the ingest added (tables empty in a fresh database; alembic's own table skipped)."""
    con = sqlite3.connect(path)
    out = []
    for t in names:
        if t == "alembic_version" or before[t]:
            continue
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')]
        rows = con.execute(f'SELECT {", ".join(cols)} FROM "{t}"').fetchall()
        if rows:
            out.append((t, cols, rows))
    con.close()
    # parents first (foreign keys are on): shop, then the rest
    out.sort(key=lambda x: (x[0] != "shop", x[0]))
    return out


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of measured load per case (default 30)")
    ap.add_argument("--warmup", type=float, default=5.0,
                    help="seconds of unmeasured load before each measurement (after every worker has warmed up)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--shops", type=int, default=20_000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--reuse", action="store_true", help="keep the demo databases in --cache and use them again")
    ap.add_argument("--cache", default=os.environ.get("CONCIERGE_BENCH_SERVING_CACHE", "/tmp/concierge-bench-serving"))
    ap.add_argument("--only", nargs="*", choices=["sqlite", "postgresql", "ingest"], default=None)
    ap.add_argument("--cases", choices=["all", "shop", "webhook"], default="all",
                    help="which serving cases: the shop page and the bare GET, the webhook and the bare POST, or all")
    ap.add_argument("--client", dest="client_tool", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--redis", default=os.environ.get("CONCIERGE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
                    help="CONCIERGE_REDIS_URL for the server (empty: in-memory limits)")
    args = ap.parse_args()
    args.workers = int(os.environ.get("CONCIERGE_WORKERS") or 2 * (os.cpu_count() or 1) + 1)
    if args.client_tool == "auto":
        args.client_tool = "wrk" if shutil.which("wrk") else "python"
    parts = args.only or ["sqlite", "postgresql", "ingest"]
    if args.redis:
        try:
            import redis

            redis.Redis.from_url(args.redis, socket_timeout=2).ping()
        except Exception as exc:  # noqa: BLE001 - no Redis: in-memory limits, said so
            log(f"Redis at {args.redis} does not answer ({exc}); in-memory rate limits")
            args.redis = ""
    state = git_state()
    log(f"commit {state['commit']}, {state['dirty_files']} changed files in the working tree; load {load_avg()}")
    rows, summary = [], []
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmpdir:
        tmp = Path(tmpdir)
        cache = Path(args.cache) if args.reuse else tmp / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        serving = [k for k in ("sqlite", "postgresql") if k in parts]
        if serving:
            bare = start_bare(tmp)
            try:
                for kind in serving:
                    rows += run_serving(kind, args, bare, cache, tmp)
            finally:
                bare.stop()
        ingest = run_ingest(args, tmp) if "ingest" in parts else None

    print(f"{'case':<36} {'db':<11} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in rows:
        print(f"{r['case']:<36} {r['database']:<11} {r['rps']:>8.1f} {r['p50_ms']!s:>8} {r['p95_ms']!s:>8} "
              f"{r['p99_ms']!s:>8} {r['errors']:>7}")
    common = {"clients": args.clients, "duration_s": args.duration, "client": args.client_tool, **state}
    for kind in ("sqlite", "postgresql"):
        by = {r["case"].split(" (")[0]: r for r in rows if r["database"] == kind}
        if not by:
            continue
        shop, hello, post, hook = (by.get(k) for k in ("shop page", "bare Flask GET /", "bare Flask POST",
                                                       "events webhook"))
        if shop is not None:  # --cases shop|all
            shop_ratio = shop["rps"] / hello["rps"] if hello["rps"] else 0.0
            print(f"{kind}: shop page {shop_ratio:.1%} of bare GET (target >= 25 %), p99 {shop['p99_ms']} ms "
                  f"(target <= 150)")
            summary.append({"bench": f"serving: shop page ({kind})", "rps": shop["rps"], "p50_ms": shop["p50_ms"],
                            "p95_ms": shop["p95_ms"], "p99_ms": shop["p99_ms"], "errors": shop["errors"],
                            "bare_get_rps": hello["rps"], "ratio": round(shop_ratio, 3),
                            "target_ratio": TARGETS["shop_ratio"], "target_p99_ms": TARGETS["shop_p99_ms"],
                            "ok": shop_ratio >= TARGETS["shop_ratio"]
                            and (shop["p99_ms"] or 1e9) <= TARGETS["shop_p99_ms"] and shop["errors"] == 0,
                            "load_avg": shop["load_avg_before"], **common})
        if hook is None:  # --cases shop
            continue
        hook_ratio = hook["rps"] / post["rps"] if post["rps"] else 0.0
        print(f"{kind}: webhook {hook_ratio:.1%} of bare POST (target >= 50 %)")
        summary.append({"bench": f"serving: events webhook ({kind})", "rps": hook["rps"], "p50_ms": hook["p50_ms"],
                        "p95_ms": hook["p95_ms"], "p99_ms": hook["p99_ms"], "errors": hook["errors"],
                        "bare_post_rps": post["rps"], "ratio": round(hook_ratio, 3),
                        "target_ratio": TARGETS["webhook_ratio"],
                        "ok": hook_ratio >= TARGETS["webhook_ratio"] and hook["errors"] == 0,
                        "load_avg": hook["load_avg_before"],
                        **{k: hook[k] for k in ("backlog_at_end", "drain_s", "drain_events_per_s", "drain_left")
                           if k in hook}, **common})
    if ingest is not None:
        print(f"ingest {ingest['events']:,} events: concierge {ingest['concierge_s']:.2f} s, raw sqlite3 "
              f"executemany {ingest['raw_s']:.2f} s ({ingest['raw_runs_s']}): {ingest['ratio']:.1%} of raw "
              f"(target >= 30 %); CPU {ingest['concierge_cpu_s']:.2f} s against {ingest['raw_cpu_s']:.2f} s "
              f"({ingest['cpu_ratio']:.1%}); rows {ingest['rows']}")
        summary.append({**ingest, "commit": state["commit"], "dirty_files": state["dirty_files"]})
    for r in rows:
        print(json.dumps({"bench_case": r}))
    for s in summary:
        print(json.dumps(s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
