"""``kedah-analytics``: the database, the local Dagster UI with demo data, the board's API and dashboard, and
quality evaluations."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from kedah_analytics import embedded_pg, serving
from kedah_analytics.config import paths as config
from kedah_analytics.config import validate
from kedah_analytics.config.settings import (
    API_PORT,
    API_TOKEN,
    CELERY_BROKER,
    CELERY_QUEUE,
    CLASSIFIER,
    CODE_SERVER_PORT,
    DASHBOARD_PORT,
    EXECUTOR,
    HOME,
    HOST,
    PG_URL,
    PORT,
)
from kedah_analytics.marts.periods import WINDOWS
from kedah_analytics.warehouse.connection import WarehouseUnavailable, with_timeouts

# The default period ("month": the last 30 complete days, in the notebooks, queries, report, API
# and dashboard) and the 30 days it is compared with, in full, and today: no change is NaN and no
# place is "new" on a fresh install. It also gives the last complete week the three weeks of
# history its trend model's backtest needs, whatever the weekday, and the marts' 28-day windows.
SEED_DAYS = 2 * WINDOWS["month"] + 1


def _use_database() -> tuple[str, bool]:
    """The URL in use (exported as KEDAH_PG_URL for Dagster) and whether it is the embedded one."""
    embedded = not PG_URL.is_set()
    # connect_timeout in the URL: Dagster's own storage (dagster.yaml reads this variable) and the
    # warehouse then give up on a server that never answers instead of hanging for minutes.
    url = config.resolve_pg_url()
    os.environ[PG_URL.name] = with_timeouts(url)
    return url, embedded


def _dagster_home() -> Path:
    """``.dagster/`` with the project's dagster.yaml, exported as DAGSTER_HOME."""
    home = config.project_home() / ".dagster"
    home.mkdir(parents=True, exist_ok=True)
    source = config.project_home() / "dagster.yaml"
    if not source.exists():
        raise FileNotFoundError(f"{source} is missing; set {HOME.name} to the project's checkout")
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def cmd_db(args: argparse.Namespace) -> int:
    pgdata = config.embedded_pgdata()
    if args.action == "stop":
        stopped = embedded_pg.stop(pgdata)
        print(f"embedded PostgreSQL in {pgdata}: {'stopped' if stopped else 'was not running'}")
        return 0
    if args.action == "status":
        if url := PG_URL.read():
            print(f"{PG_URL.name}: {config.redact_url(url)}")
        running = embedded_pg.status(pgdata)
        print(f"embedded PostgreSQL in {pgdata}: {'running at ' + running if running else 'stopped'}")
        return 0
    url, embedded = _use_database()
    if args.action in ("start", "migrate"):
        from kedah_analytics.warehouse import apply_migrations

        applied = apply_migrations(url)
        print(f"schema kedah: {'applied ' + ', '.join(applied) if applied else 'up to date'}")
    print(config.redact_url(url))
    if embedded and args.action == "url":
        print("(embedded server; it keeps running until `kedah-analytics db stop`)", file=sys.stderr)
    return 0


def _seed(days: int) -> None:
    """Materialize the last ``days`` days: a line per run and step on the console, at INFO."""
    from kedah_analytics.definitions import materialize_recent_days

    logging.basicConfig(level=logging.WARNING, format="%(message)s", force=True)
    logging.getLogger("kedah_analytics").setLevel(logging.INFO)  # the project's lines, not alembic's
    print(f"materialized {materialize_recent_days(days)}", flush=True)


def _foreground() -> tuple[str, bool, Path]:
    """For a command that runs until stopped: Ctrl-C and a plain `kill` both stop everything it
    starts. The database URL in use, whether it is the embedded one, and DAGSTER_HOME."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, serving.stop_on_signal)
    url, embedded = _use_database()
    return url, embedded, _dagster_home()


def _say_database(url: str, embedded: bool) -> None:
    print(f"database: {config.redact_url(url)}{' (embedded)' if embedded else ''}", flush=True)


def cmd_seed(args: argparse.Namespace) -> int:
    _use_database()
    _dagster_home()
    _seed(args.days)
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    """Demo days, then the Dagster webserver and daemon, the API and the dashboard until Ctrl-C."""
    url, embedded, home = _foreground()
    _say_database(url, embedded)
    if args.days > 0:
        _seed(args.days)
    address = f"http://{args.host}:{args.port}"
    api, dashboard = f"http://{args.host}:{args.api_port}", f"http://{args.host}:{args.dashboard_port}"
    workspace = str(config.project_home() / "workspace.yaml")
    # The webserver and the daemon, the two processes `dagster dev` would start (it is superseded
    # and warns so), run from DAGSTER_HOME so no dagster.yaml in the checkout is mistaken for it;
    # the API and the dashboard read the warehouse only.
    processes = serving.start(
        [[sys.executable, "-m", "dagster_webserver", "-w", workspace, "-h", args.host, "-p", str(args.port)],
         [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", workspace],
         serving.api_command(args.host, args.api_port),
         serving.dashboard_command(args.host, args.dashboard_port)],
        cwd=home, env={**os.environ, "DAGSTER_HOME": str(home)},
    )  # fmt: skip
    try:
        checks = [(f"{address}/server_info", processes[0]), (f"{api}/health", processes[2]),
                  (f"{dashboard}/_stcore/health", processes[3])]  # fmt: skip
        if all(serving.wait_for_http(check, process) for check, process in checks):
            stops = " and the embedded database" if embedded else ""
            from kedah_analytics.definitions import lineage_path

            print(f"\nDagster UI: {address}\nLineage:    {address}{lineage_path()}\n"
                  f"API:        {api}/api/analytics/overview-metrics/\n"
                  f"API docs:   {api}/docs\nDashboard:  {dashboard}\n(Ctrl-C stops all four{stops})\n",
                  flush=True)  # fmt: skip
        else:
            print("a server did not come up; see its output above", file=sys.stderr)
        serving.wait_until_one_exits(processes)
        print("a server exited; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        serving.stop(processes)
        if embedded and not args.keep_db:
            embedded_pg.stop(config.embedded_pgdata())
            print("stopped the embedded PostgreSQL")


def cmd_api(args: argparse.Namespace) -> int:
    """The read-only HTTP API until Ctrl-C (127.0.0.1 unless a token guards it)."""
    from kedah_analytics.api.server import serve

    _use_database()
    serve(args.host, args.port)
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    """The board's dashboard until Ctrl-C; it needs the warehouse, not the Dagster webserver."""
    serving.check_dashboard_bind(args.host, args.public)
    _use_database()
    return subprocess.call(serving.dashboard_command(args.host, args.port))


def cmd_backfill(args: argparse.Namespace) -> int:
    _use_database()
    _dagster_home()
    import json
    from datetime import date

    from kedah_analytics.definitions import backfill_summary
    from kedah_analytics.phases import PhaseFailed

    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    try:
        summary = backfill_summary(date.fromisoformat(args.start), date.fromisoformat(args.end), platforms, args.workers)  # fmt: skip
    except PhaseFailed as failed:
        done = [f"finished: run {run.run_id} of {run.job}" for run in failed.done]
        print("\n".join([*done, f"backfill failed: {failed}"]), file=sys.stderr)
        return 1
    print(json.dumps(summary) if args.json else
          f"backfilled {args.start}..{args.end} x {','.join(platforms)} on the {summary['executor']} executor, "
          f"{summary['workers']} worker process(es): {summary['runs']} runs, {summary['steps']} steps in {summary['seconds']:.1f}s")  # fmt: skip
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The deployment topology: code server, webserver and daemon as three processes."""
    from kedah_analytics.topology import start_topology

    url, embedded, home = _foreground()
    workspace = config.project_home() / "deploy" / "workspace.grpc.yaml"
    _say_database(url, embedded)
    topology = start_topology(
        workspace=workspace, cwd=config.project_home(), env={**os.environ, "DAGSTER_HOME": str(home)},
        host=args.host, port=args.port, code_port=args.code_port,
    )  # fmt: skip
    try:
        print(f"code server: {args.host}:{args.code_port}   Dagster UI: {topology.webserver_url}   "
              "daemon: running   (Ctrl-C stops all three)", flush=True)  # fmt: skip
        serving.wait_until_one_exits(topology.processes)
        print("a process of the topology exited; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        topology.stop()


def cmd_worker(args: argparse.Namespace) -> int:
    """One dagster-celery worker for KEDAH_EXECUTOR=celery runs, in the foreground."""
    from kedah_analytics.executors import executor_options
    from kedah_analytics.topology import start_worker

    _, _, home = _foreground()
    options = executor_options()
    print(f"celery worker on queue {options.queue!r}, broker {config.redact_url(options.broker)}", flush=True)
    worker = start_worker(options, dagster_home=home, cwd=config.project_home(), env=os.environ,
                          name=args.name, concurrency=args.concurrency)  # fmt: skip
    try:
        return worker.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        from kedah_analytics.topology import stop

        stop([worker])


def cmd_eval_sentiment(args: argparse.Namespace) -> int:
    from kedah_analytics.classify.evaluation import evaluate, format_report, read_labelled_tsv
    from kedah_analytics.classify.registry import build_classifier
    from kedah_analytics.warehouse.state import PgSentimentCache

    texts, labels = read_labelled_tsv(args.data)
    # Gemini caches its answers in the warehouse when one is configured.
    url = PG_URL.read()
    classifier = build_classifier(args.classifier, cache=PgSentimentCache(url) if url else None)
    print(format_report(evaluate(classifier, texts, labels)))
    return 0


def cmd_eval_trends(args: argparse.Namespace) -> int:
    from kedah_analytics.trends.evaluation import format_report, run_eval_trends

    print(format_report(run_eval_trends(args.counts, args.flags)))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from kedah_analytics import queries
    from kedah_analytics.marts.periods import Period
    from kedah_analytics.report import weekly_report

    if bool(args.week) == bool(args.period):
        raise ValueError(
            "give one of --week (2026-W47) or --period (2026-11, last30, 2026-11-01..2026-11-15)"
        )
    period = Period.parse(args.week or args.period)
    url, _ = _use_database()
    with queries.connect(url) as conn:
        report = weekly_report(conn, args.city, period, data=args.data)
    args.out.write_text(report.html, encoding="utf-8")
    size_kb = args.out.stat().st_size / 1024
    print(f"wrote {args.out} ({size_kb:.0f} KB): {report.city}, {report.period.name}, {report.data} data, "
          f"built in {report.seconds:.2f}s")  # fmt: skip
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """Print what is configured and what is wrong; exit 1 when something is."""
    text, ok = validate.check_report()
    print(text)
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kedah-analytics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="show the database URL in use; start, stop or migrate the embedded one")
    db.add_argument("action", nargs="?", default="url", choices=["url", "start", "stop", "status", "migrate"])
    db.set_defaults(func=cmd_db)

    dev = sub.add_parser("dev", help="start the database, materialize recent demo days, serve the Dagster UI")
    dev.add_argument("--host", default=None, help=f"default {HOST.name} ({HOST.default})")
    dev.add_argument("--port", type=int, default=None, help=f"default {PORT.name} ({PORT.default})")
    dev.add_argument("--days", type=int, default=SEED_DAYS, help="days to seed (%(default)s; 0: none)")
    dev.add_argument("--keep-db", action="store_true", help="leave the embedded PostgreSQL running on exit")
    dev.add_argument("--api-port", type=int, default=int(API_PORT.read() or 8000))
    dev.add_argument("--dashboard-port", type=int, default=int(DASHBOARD_PORT.read() or 8501))
    dev.set_defaults(func=cmd_dev)

    api = sub.add_parser("api", help="the read-only HTTP API over the marts (OpenAPI docs at /docs)")
    api.add_argument("--host", default="127.0.0.1", help=f"other than 127.0.0.1 only with {API_TOKEN.name}")
    api.add_argument("--port", type=int, default=int(API_PORT.read() or 8000))
    api.set_defaults(func=cmd_api)

    dashboard = sub.add_parser("dashboard", help="the board's dashboard (Streamlit) over the marts")
    dashboard.add_argument("--host", default="127.0.0.1")
    dashboard.add_argument("--port", type=int, default=int(DASHBOARD_PORT.read() or 8501))
    dashboard.add_argument("--public", action="store_true", help="allow an address beyond this machine")
    dashboard.set_defaults(func=cmd_dashboard)

    backfill = sub.add_parser(
        "backfill", help=f"ranged backfill of posts and daily metrics on {EXECUTOR.name}"
    )
    backfill.add_argument("--start", required=True, help="first Kedah day, YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="last Kedah day, YYYY-MM-DD")
    backfill.add_argument("--platforms", default="twitter,instagram,facebook,youtube")
    backfill.add_argument("--workers", type=int, default=0, help="runs side by side in this many processes "
                          "(default: one per core; a range of 28 days or more goes in two spans of days per process)")  # fmt: skip
    backfill.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    backfill.set_defaults(func=cmd_backfill)

    serve = sub.add_parser("serve", help="code-location gRPC server, webserver and daemon as three processes")
    serve.add_argument("--host", default=None, help=f"default {HOST.name} ({HOST.default})")
    serve.add_argument("--port", type=int, default=None, help=f"default {PORT.name} ({PORT.default})")
    serve.add_argument(
        "--code-port", type=int, default=None,
        help=f"port of the code location's gRPC server (default {CODE_SERVER_PORT.name}, {CODE_SERVER_PORT.default})",
    )  # fmt: skip
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser(
        "worker", help=f"a dagster-celery worker ({CELERY_BROKER.name}, {CELERY_QUEUE.name})"
    )
    worker.add_argument("--name", default=None, help="worker name (default: dagster-celery's)")
    worker.add_argument("--concurrency", type=int, default=1, help="steps this worker runs at once")
    worker.set_defaults(func=cmd_worker)

    seed = sub.add_parser("seed", help="materialize the last N days for every platform")
    seed.add_argument("--days", type=int, default=SEED_DAYS, help="days up to today (default %(default)s)")
    seed.set_defaults(func=cmd_seed)

    sentiment = sub.add_parser("eval-sentiment", help="score the configured classifier on a labelled TSV")
    sentiment.add_argument("--data", required=True, type=Path, help="TSV with header text<TAB>label")
    sentiment.add_argument("--classifier", default=None, help=f"override {CLASSIFIER.name}")
    sentiment.set_defaults(func=cmd_eval_sentiment)

    trends = sub.add_parser("eval-trends", help="backtest the trend forecaster and run the burst detector")
    trends.add_argument("--counts", required=True, type=Path, help="CSV with header keyword,timestamp,count")
    trends.add_argument("--flags", required=True, type=Path, help="where to write the detector's output CSV")
    trends.set_defaults(func=cmd_eval_trends)

    report = sub.add_parser("report", help="render a city's weekly report (HTML) from the marts")
    report.add_argument(
        "--city", default="All Kedah", help="Langkawi, Alor Setar, ... or 'All Kedah' (default)"
    )
    report.add_argument("--week", help="ISO week, e.g. 2026-W47")
    report.add_argument("--period", help="or any period: 2026-11, last30, 2026-11-01..2026-11-15")
    report.add_argument("--out", type=Path, default=Path("report.html"))
    report.add_argument("--data", choices=["auto", "real", "demo"], default="auto",
                        help="auto: real rows where the period has any, else demo rows (the report says which)")  # fmt: skip
    report.set_defaults(func=cmd_report)

    check = sub.add_parser(
        "check-config", help="print what is configured and what is wrong (exit 1 if anything)"
    )
    check.set_defaults(func=cmd_check_config)
    return parser


def _with_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """Options left unset take their settings (read once, checked as a whole): a wrong variable
    fails here with every mistake named, except for check-config, which reports them."""
    if args.command in ("dev", "serve"):
        configured = validate.configuration().settings
        args.host = args.host or configured.host
        args.port = args.port or configured.port
        if args.command == "serve":
            args.code_port = args.code_port or configured.code_server_port
    return args


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(_with_defaults(args))
    except (FileNotFoundError, ValueError, WarehouseUnavailable) as err:
        print(f"kedah-analytics {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
