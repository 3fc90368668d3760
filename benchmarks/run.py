"""Accord benchmarks: figures against the database's own floor and the issue's targets.

    python benchmarks/run.py --size L            # the reference run (see README.md)
    python benchmarks/run.py --size L --growth   # plus 100 / 1,000 / 10,000 engagements

Needs DATABASE_URL (a scratch PostgreSQL database: it is emptied) and
CELERY_BROKER_URL (Redis). Prints a table and appends it to benchmarks/RESULTS.md.
"""

import argparse
import csv
import itertools
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
# Notice e-mails are rendered, not sent (and not printed, the development default).
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
os.environ.setdefault("EMAIL_BACKEND", EMAIL_BACKEND)

SIZES = {  # engagements, SLAs per engagement, days of measurements
    "S": (100, 10, 365),
    "M": (300, 10, 365),
    "L": (1000, 10, 365),
}
# 1,000 first: it reuses the data of size L.
GROWTH = ((1000, 365), (100, 365), (10_000, 31))
PORT = 8801
HOST = f"http://127.0.0.1:{PORT}"
THROTTLE_USER = "1000000/min"
GUNICORN_WORKERS = 2 * (os.cpu_count() or 1)
CLIENTS = 8
BULK_ROWS_PER_REQUEST = 10_000
TARGETS = {
    "recompute_vs_floor": 3.0,
    "two_workers_speedup": 1.3,
    "ingest_rows_per_s": 25_000,
    "ingest_vs_copy": 10.0,
    "api_p95_ms": 150,
    "portfolio_p95_ms": 250,
    "engagement_p95_ms": 250,
    "freshness_p95_s": 5.0,
    "growth_recompute": 12.0,
    "growth_read": 2.0,
    "backtest_ms": 200,
    "search_ms": 100,
}
# Freshness: 10,000-row requests posted back to back while workers refresh (PRODUCT.md §12).
FRESHNESS_REQUESTS = 20
FRESHNESS_WORKERS = 2
# The what-if back-test: how many times it is timed, after one warm-up request.
BACKTEST_RUNS = 50
# Search: one word of generate_data's issue titles ("Unplanned outage"), so it matches about
# one issue in twelve, and another that matches nothing.
SEARCH_WORDS = ("outage", "zeppelin")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="L")
    parser.add_argument("--growth", action="store_true", help="also 100/1,000/10,000 engagements")
    parser.add_argument("--skip-generate", action="store_true", help="reuse data of this size")
    parser.add_argument("--read-seconds", type=int, default=60)
    parser.add_argument("--warmup-seconds", type=int, default=15)
    parser.add_argument("--ingest-rows", type=int, default=200_000)
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument(
        "--backtest-only",
        action="store_true",
        help="only the what-if back-test of one engagement over 12 closed periods",
    )
    parser.add_argument("--search-only", action="store_true", help="only the search of one word")
    parser.add_argument(
        "--live-only",
        action="store_true",
        help="only the recompute against the floor, ingestion, freshness and the read pages",
    )
    args = parser.parse_args()
    # Read before the run writes floor_explain.txt, which would mark every record uncommitted.
    commit = git_commit()
    require_services()
    # The same production settings for this process, the workers and gunicorn.
    os.environ.update(production_env())

    import django

    django.setup()
    manage("migrate", "--noinput", "-v0")
    # DEBUG is off, so pages need the hashed static files (in-process query counts too).
    manage("collectstatic", "--noinput", "-v0")
    bench = Bench(args)
    load_before = os.getloadavg()
    if args.backtest_only:
        figures = bench.backtest_only()
        growth = None
    elif args.search_only:
        figures = bench.search_only()
        growth = None
    elif args.live_only:
        figures = bench.live_only()
        growth = None
    else:
        figures = bench.reference()
        growth = bench.growth() if args.growth else None
    figures["load"] = f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
    renderer = render_backtest if args.backtest_only else render_live if args.live_only else render
    renderer = render_search if args.search_only else renderer
    report = renderer(args, commit, figures, growth)
    print(report)
    if not args.no_record:
        with open(HERE / "RESULTS.md", "a") as results:
            results.write(report + "\n")


def require_services():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database (see benchmarks/README.md).")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        sys.exit("Set CELERY_BROKER_URL to Redis, e.g. redis://127.0.0.1:6379/8.")


def benchmark_month() -> date:
    """The last complete calendar month: every engagement's as_of is its last day."""
    return (datetime.now(UTC).date().replace(day=1) - timedelta(days=1)).replace(day=1)


class Bench:
    def __init__(self, args):
        self.args = args
        self.month = benchmark_month()
        self.data_end = self.month.replace(day=28) + timedelta(days=4)
        self.data_end -= timedelta(days=self.data_end.day)

    # ------------------------------------------------------------ the reference size
    def reference(self) -> dict:
        figures = self.recompute_figures(explain=self.args.size == "L")
        for workers in (1, 2):
            figures[f"workers_{workers}_s"] = self.recompute_with_workers(workers)
            progress(figures)
        self.live_figures(figures)
        figures.update(self.backtest())
        figures.update(self.search())
        return figures

    def live_only(self) -> dict:
        """The figures of live scorecards (PRODUCT.md §12): the recompute against the floor and
        its parts, ingestion, freshness during ingestion, and the three read pages."""
        figures = self.recompute_figures(explain=False)
        self.live_figures(figures)
        return figures

    def backtest_only(self) -> dict:
        return {**self.data_figures(), **self.backtest()}

    def search_only(self) -> dict:
        return {**self.data_figures(), **self.search()}

    def data_figures(self) -> dict:
        """The data of this size, generated or reused, and what it is."""
        engagements, slas, days = SIZES[self.args.size]
        return {
            "size": f"{engagements:,} engagements × {slas} SLAs × {days} days",
            "generate": self.generate(engagements, slas, days),
        }

    def recompute_figures(self, *, explain: bool) -> dict:
        """The data, then the floor, the recompute in process and its parts."""
        figures = self.data_figures()
        self.prepare()
        figures["floor_s"] = self.floor()
        if explain:
            self.explain_floor()
        figures["recompute_s"], figures["drain_s"], figures["rerun_s"] = self.recompute_in_process()
        figures.update(self.recompute_parts())
        figures["queries"] = self.query_counts()
        progress(figures)
        return figures

    def live_figures(self, figures: dict) -> None:
        """Adds ingestion, freshness while ingesting, and the read pages, behind gunicorn."""
        with gunicorn():
            figures.update(self.ingest())
            progress(figures)
            with celery_workers(FRESHNESS_WORKERS):
                figures.update(self.freshness())
            progress(figures)
            figures.update(self.reads(self.args.read_seconds))

    def growth(self) -> list[dict]:
        rows = []
        for engagements, days in GROWTH:
            self.generate(engagements, 10, days, reuse=True)
            self.prepare()
            row = {"engagements": engagements, "days": days, "floor_s": self.floor()}
            row["recompute_s"], _, _ = self.recompute_in_process()
            with gunicorn():
                row.update(self.reads(min(self.args.read_seconds, 30)))
            rows.append(row)
        return rows

    # ------------------------------------------------------------ data
    def generate(self, engagements: int, slas: int, days: int, reuse=False) -> str:
        from relationships.models import SLA, Engagement, Measurement

        if (
            (reuse or self.args.skip_generate)
            and Engagement.objects.count() == engagements
            and Measurement.objects.current().count() == engagements * slas * days
            and SLA.objects.count() == engagements * slas
        ):
            return "reused from an earlier run"
        output = manage(
            "generate_data",
            f"--engagements={engagements}",
            f"--slas-per-engagement={slas}",
            f"--days={days}",
            f"--end={self.data_end}",
            "--reset",
            "--no-progress",
        )
        print(output)
        # Vacuumed now rather than by autovacuum in the middle of the measurements: the
        # fresh rows' visibility and hint bits would otherwise be set by whichever query
        # reads them first (one run measured the floor 50 % slower while autovacuum ran).
        sql("VACUUM (ANALYZE)")
        return next(line for line in output.splitlines() if line.startswith("total")).split(
            None, 1
        )[1]

    def prepare(self):
        """Scorecards of the month before, so trends and drop alerts work as in production."""
        self.run_in_process((self.month - timedelta(days=1)).replace(day=1))

    # ------------------------------------------------------------ recompute
    def floor(self) -> float:
        """The median of three runs of benchmarks/floor.sql, after one to warm the cache."""
        from django.db import connection

        sql = floor_sql(self.month)
        timings = []
        with connection.cursor() as cursor:
            for attempt in range(4):
                started = time.perf_counter()
                cursor.execute(sql)
                rows = cursor.fetchall()
                if attempt:
                    timings.append(time.perf_counter() - started)
        assert rows, "the floor query found nothing to score"
        return statistics.median(timings)

    def explain_floor(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + floor_sql(self.month))
            plan = "\n".join(row[0] for row in cursor.fetchall())
        (HERE / "floor_explain.txt").write_text(
            f"-- EXPLAIN (ANALYZE, BUFFERS) of benchmarks/floor.sql, period_start={self.month}, "
            f"size {self.args.size}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n{plan}\n"
        )

    def clear_month(self, month: date):
        """A fresh recompute: this month's scorecards, alerts and all outbox events gone."""
        sql(
            "DELETE FROM scorecards_scorecard WHERE period_kind = 'month' AND period_start = %s",
            [month],
        )
        sql(
            "DELETE FROM scorecards_alert WHERE period_kind = 'month' AND period_start = %s",
            [month],
        )
        sql("DELETE FROM scorecards_outboxevent")

    def run_in_process(self, month: date):
        """One run through the production path, its chunk tasks executed in this process.

        The notice e-mails it queues (one task each, on any worker, in production) are not
        sent: eager Celery would send them inside the chunks' commits."""
        from unittest import mock

        from accord.celery import app
        from notices import services as notices
        from scorecards import runs
        from scorecards.models import ScorecardRun

        app.conf.task_always_eager = True
        run = ScorecardRun.objects.create(
            trigger="command", period_kind="month", period_start=month
        )
        with mock.patch.object(notices, "send_on_commit"):
            runs.start_run(run.pk)
        run.refresh_from_db()
        assert run.status == "succeeded", f"run {run.pk} ended {run.status}: {run.error}"
        return run

    def recompute_in_process(self) -> tuple[float, float, float]:
        """Fresh recompute of the month, the outbox drain it enqueued, then a rerun.

        Eager Celery would run the drain task inside the run's last commit; in
        production it is a separate task on any worker, so it is timed on its own.
        """
        from unittest import mock

        from scorecards.models import OutboxEvent
        from scorecards.webhooks import outbox

        self.clear_month(self.month)
        with mock.patch.object(outbox, "enqueue_drain") as enqueue_drain:
            started = time.perf_counter()
            self.run_in_process(self.month)
            fresh = time.perf_counter() - started
            assert enqueue_drain.called, "the run enqueued no outbox drain"
            started = time.perf_counter()
            while OutboxEvent.objects.filter(dispatched_at__isnull=True).exists():
                outbox.drain_outbox()
            drain = time.perf_counter() - started
        started = time.perf_counter()
        self.run_in_process(self.month)
        return fresh, drain, time.perf_counter() - started

    def recompute_parts(self) -> dict:
        """Where a fresh recompute's time goes: its chunks' reads, then scoring them.

        Timed again on their own, with the functions the chunk task calls, over the last
        run's chunks (scoring without the previous score: the trend is one subtraction).
        The rest of the recompute is its writes (scorecards, alerts, events) and bookkeeping.
        """
        from scorecards import compute, scoring
        from scorecards.inputs import serialise
        from scorecards.models import ScorecardRun

        run = ScorecardRun.objects.filter(period_kind="month", period_start=self.month).latest("pk")
        reads = model = 0.0
        for engagement_ids in run.chunks.values_list("engagement_ids", flat=True):
            started = time.perf_counter()
            engagements = compute.chunk_engagements(engagement_ids)
            inputs = compute.load_inputs(engagements, "month", self.month, None)
            reads += time.perf_counter() - started
            started = time.perf_counter()
            for engagement in engagements:
                if engagement.pk in inputs:
                    config = engagement.scoring_config_values()
                    data = serialise(inputs[engagement.pk], config, None)
                    compute.inputs_digest(data)
                    scoring.score_engagement(inputs[engagement.pk], config, None, data=data)
            model += time.perf_counter() - started
        return {"reads_s": reads, "scoring_s": model}

    def recompute_with_workers(self, count: int) -> float:
        from accord.celery import app
        from scorecards import runs
        from scorecards.models import ScorecardRun

        self.clear_month(self.month)
        app.conf.task_always_eager = False
        with celery_workers(count):
            run = ScorecardRun.objects.create(
                trigger="command", period_kind="month", period_start=self.month
            )
            started = time.perf_counter()
            runs.start_run(run.pk)
            while run.status not in ("succeeded", "failed"):
                time.sleep(0.05)
                run.refresh_from_db()
            elapsed = time.perf_counter() - started
        assert run.status == "succeeded", f"run {run.pk} failed: {run.error}"
        return elapsed

    def query_counts(self) -> dict:
        """Queries per request of the read pages and per chunk (the figures depend on them)."""
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client()
        client.force_login(bench_user())
        counts = {}
        for name, path in (("api", "/api/v1/engagements/"), ("portfolio", "/")):
            with CaptureQueriesContext(connection) as queries:
                status = client.get(path).status_code
            counts[name] = f"{len(queries)} (HTTP {status})"
        return counts

    # ------------------------------------------------------------ what-if
    def backtest(self) -> dict:
        """The what-if back-test of one engagement: its last 12 closed periods and the one in
        progress rescored under other weights and band limits, through the API operation
        (in process, signed in) and the selector alone; median and p95 of BACKTEST_RUNS.

        Its periods are computed first as the periodic runs would have, oldest first, on the
        tenth day after the data ends: the data's last month is then closed, the next one
        in progress.
        """
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from accord.celery import app
        from relationships.models import Engagement
        from scorecards import compute
        from scorecards.backtest import scoring_backtest, whatif_config

        app.conf.task_always_eager = True  # the outbox drains the computations enqueue
        engagement = Engagement.objects.order_by("pk").first()
        today = self.data_end + timedelta(days=10)
        for period in reversed(engagement.periods(today)):
            compute.compute_chunk([engagement.pk], "month", period.start, today)
        tried = {"weights": {"reliance": 50, "sentiment": 5}, "band_limits": {"healthy_at": 80}}
        client = Client()
        client.force_login(bench_user())
        url = f"/api/v1/engagements/{engagement.pk}/what-if/"

        def request():
            response = client.post(url, tried, content_type="application/json")
            assert response.status_code == 200, response.content[:200]
            return response

        rows = len(request().json())
        api = timed(request)

        def selector():
            fresh = Engagement.objects.select_related("scoring_config").get(pk=engagement.pk)
            scoring_backtest(engagement=fresh, config=whatif_config(engagement=fresh, **tried))

        with CaptureQueriesContext(connection) as queries:
            selector()
        alone = timed(selector)
        return {
            "backtest_rows": rows,
            "backtest_queries": len(queries),
            "backtest_api_ms": api,
            "backtest_selector_ms": alone,
        }

    # ------------------------------------------------------------ search
    def search(self) -> dict:
        """A one-word search as `bench`, who sees every engagement: the search page through
        Django's test client (in process, signed in) and `overview.search.search` alone;
        median and p95 of BACKTEST_RUNS after one warm-up, per word of SEARCH_WORDS."""
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from overview.search import matches, search

        user = bench_user()
        client = Client()
        client.force_login(user)
        figures = {}
        for word in SEARCH_WORDS:

            def page(word=word):
                response = client.get("/search/", {"q": word})
                assert response.status_code == 200, response.content[:200]

            page()
            with CaptureQueriesContext(connection) as queries:
                results = search(user, word)
            sql_text, params = matches(user, word).query.sql_with_params()

            def explained(sql_text=sql_text, params=params):
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql_text}", params)
                    plan = cursor.fetchone()[0][0]
                return plan["Planning Time"] + plan["Execution Time"]

            figures[word] = {
                "matches": results.count,
                "engagements": len(results.groups),
                "truncated": ", ".join(results.truncated) or "none",
                "queries": len(queries),
                "page_ms": timed(page),
                "selector_ms": timed(lambda word=word: search(user, word)),
                "sql_ms": statistics.median(explained() for _ in range(BACKTEST_RUNS)),
            }
        return {"search": figures}

    # ------------------------------------------------------------ ingestion
    def ingest(self) -> dict:
        """Bulk endpoint in 10,000-row requests, then COPY of the same rows, on the same table."""
        import orjson
        import requests

        from relationships.models import ImportBatch, Measurement

        # Days before the generated data: new rows, and never in the future.
        first = self.data_end - timedelta(days=SIZES[self.args.size][2])
        rows = new_measurement_rows(before=first, count=self.args.ingest_rows)
        bodies = [
            orjson.dumps({"rows": rows[i : i + BULK_ROWS_PER_REQUEST]})
            for i in range(0, len(rows), BULK_ROWS_PER_REQUEST)
        ]
        headers = {"Authorization": f"Token {api_token()}", "Content-Type": "application/json"}

        def post(body):
            response = requests.post(
                f"{HOST}/api/v1/measurements/bulk/", data=body, headers=headers, timeout=300
            )
            assert response.status_code == 201, response.text[:500]

        def remove():
            assert Measurement.objects.filter(period_start__lt=first).count() == len(rows)
            sql("DELETE FROM relationships_measurement WHERE period_start < %s", [first])
            ImportBatch.objects.filter(source__startswith="API bulk").delete()

        # Warm every gunicorn worker first (views imported, connection open), as the reads
        # are measured after a warm-up: otherwise a 20-request run pays 4 cold starts.
        small = orjson.dumps({"rows": rows[:100]})
        for _ in range(3 * GUNICORN_WORKERS):
            post(small)
            sql("DELETE FROM relationships_measurement WHERE period_start < %s", [first])
        figures = {"ingest_rows": len(rows)}
        for clients in (1, 2):
            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(post, bodies))
            figures[f"ingest_{clients}_rows_per_s"] = len(rows) / (time.perf_counter() - started)
            remove()
        figures["copy_rows_per_s"] = len(rows) / copy_measurements(rows)
        remove()
        sql("VACUUM ANALYZE relationships_measurement")
        return figures

    # ------------------------------------------------------------ freshness
    def freshness(self) -> dict:
        """Commit → refreshed provisional scorecard while bulk ingestion runs at full rate.

        One client posts FRESHNESS_REQUESTS requests of 10,000 rows back to back: every SLA
        of every engagement, one day of the month in progress each (a new value each round,
        so later rounds are corrections), while FRESHNESS_WORKERS workers refresh. Request
        i is each engagement's (i+1)-th counted write; a refresh that finished with
        `refreshed` ≥ i+1 read it (ScorecardRefresh). Its freshness: the first such
        refresh's finished_at minus the moment the response arrived (just after the commit,
        so the figure is, if anything, a few milliseconds short). The rows are polled every
        50 ms from a thread of their own.
        """
        import threading

        import orjson
        import requests
        from django.conf import settings
        from django.db import connection
        from django.db.models import F

        from relationships.models import SLA, ImportBatch
        from scorecards.models import ScorecardRefresh

        sql("DELETE FROM scorecards_scorecardrefresh")
        today = datetime.now(UTC).date()
        days = [today - timedelta(days=n) for n in range(today.day)]  # the month so far
        sla_ids = list(SLA.objects.order_by("pk").values_list("pk", flat=True))
        bodies = [
            orjson.dumps({"rows": [
                {"sla": pk, "period_start": str(days[i % len(days)]),
                 "period_end": str(days[i % len(days)]), "value": f"{90 + i % 7}.25",
                 "source": "benchmark"}
                for pk in sla_ids[:BULK_ROWS_PER_REQUEST]
            ]})
            for i in range(FRESHNESS_REQUESTS)
        ]  # fmt: skip
        headers = {"Authorization": f"Token {api_token()}", "Content-Type": "application/json"}
        seen: set[tuple[int, int, datetime, datetime]] = set()
        stop = threading.Event()

        def poll():
            try:
                while not stop.is_set():
                    seen.update(
                        ScorecardRefresh.objects.filter(finished_at__isnull=False).values_list(
                            "engagement_id", "refreshed", "started_at", "finished_at"
                        )
                    )
                    time.sleep(0.05)
            finally:
                connection.close()

        poller = threading.Thread(target=poll)
        poller.start()
        committed = []
        started = time.perf_counter()
        for body in bodies:
            response = requests.post(
                f"{HOST}/api/v1/measurements/bulk/", data=body, headers=headers, timeout=300
            )
            assert response.status_code == 201, response.text[:500]
            committed.append(datetime.now(UTC))
        ingest_s = time.perf_counter() - started
        engagements = set(SLA.objects.values_list("engagement_id", flat=True))
        rows = ScorecardRefresh.objects.filter(engagement_id__in=engagements)
        deadline = time.monotonic() + 300
        while (
            rows.count() < len(engagements)
            or rows.exclude(refreshed=F("requested"), queued_at__isnull=True).exists()
        ):
            assert time.monotonic() < deadline, "the refreshes did not catch up in 5 minutes"
            time.sleep(0.2)
        assert set(rows.values_list("requested", flat=True)) == {FRESHNESS_REQUESTS}
        time.sleep(0.2)
        stop.set()
        poller.join()
        refreshes: dict[int, dict[int, datetime]] = {}  # engagement → refreshed → finished_at
        starts: dict[int, set[datetime]] = {}  # engagement → its refreshes' starts
        for engagement_id, count, began, finished in seen:
            earlier = refreshes.setdefault(engagement_id, {}).get(count, finished)
            refreshes[engagement_id][count] = min(earlier, finished)
            starts.setdefault(engagement_id, set()).add(began)
        latencies = []
        for engagement_id in engagements:
            done = refreshes[engagement_id]
            for index, moment in enumerate(committed):
                finished = min(f for count, f in done.items() if count >= index + 1)
                latencies.append((finished - moment).total_seconds())
        latencies.sort()
        counts = [len(starts[pk]) for pk in engagements]
        # The debounce: one refresh per window, plus one, over the time its refreshes span.
        window = settings.SCORECARD_REFRESH_SECONDS
        gaps = [
            (later - earlier).total_seconds()
            for pk in engagements
            for earlier, later in itertools.pairwise(sorted(starts[pk]))
        ]
        over = sum(
            len(starts[pk]) > (max(starts[pk]) - min(starts[pk])).total_seconds() / window + 1
            for pk in engagements
        )
        sql("DELETE FROM relationships_measurement WHERE period_start >= %s", [days[-1]])
        ImportBatch.objects.filter(source__startswith="API bulk").delete()
        return {
            "fresh_rows": FRESHNESS_REQUESTS * BULK_ROWS_PER_REQUEST,
            "fresh_rows_per_s": FRESHNESS_REQUESTS * BULK_ROWS_PER_REQUEST / ingest_s,
            "fresh_ingest_s": ingest_s,
            "fresh_p50_s": statistics.median(latencies),
            "fresh_p95_s": statistics.quantiles(latencies, n=20)[-1],
            "fresh_max_s": latencies[-1],
            "fresh_recomputes_max": max(counts),
            "fresh_recomputes_mean": statistics.mean(counts),
            "fresh_shortest_gap_s": min(gaps, default=None),
            "fresh_over_bound": over,
        }

    # ------------------------------------------------------------ reads
    def reads(self, seconds: int) -> dict:
        from django.test import Client

        from relationships.models import Engagement

        self.run_in_process(self.month)  # the latest scorecards exist
        client = Client()
        client.force_login(bench_user())
        env = {
            "BENCH_TOKEN": api_token(),
            "BENCH_SESSION": client.cookies["sessionid"].value,
            "BENCH_ENGAGEMENT": str(Engagement.objects.order_by("pk").first().pk),
        }
        figures = {}
        for target in ("api", "portfolio", "engagement"):
            locust(target, env, self.args.warmup_seconds)
            stats = locust(target, env, seconds)
            figures[f"{target}_p50_ms"] = stats["50%"]
            figures[f"{target}_p95_ms"] = stats["95%"]
            figures[f"{target}_rps"] = stats["Requests/s"]
            figures[f"{target}_failures"] = stats["Failure Count"]
        return figures


# ---------------------------------------------------------------- helpers
def progress(figures: dict):
    print(f"[{datetime.now(UTC):%H:%M:%S}]", figures, flush=True)


def sql(statement: str, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def manage(*args) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def floor_sql(month: date) -> str:
    sql = (HERE / "floor.sql").read_text()
    return sql.replace(":'period_start'", f"'{month.isoformat()}'").rstrip().rstrip(";")


def bench_user():
    from django.contrib.auth import get_user_model

    from sampledata.management.commands.generate_data import BENCH_USERNAME

    return get_user_model().objects.get(username=BENCH_USERNAME)


def api_token() -> str:
    from relationships.models import ApiToken

    _, token = ApiToken.objects.create(user=bench_user(), expiry=None, name="benchmark")
    return token


def new_measurement_rows(*, before: date, count: int) -> list[dict]:
    """`count` bulk-endpoint rows, one day of every SLA after another, on days before `before`."""
    from relationships.models import SLA

    sla_ids = list(SLA.objects.order_by("pk").values_list("pk", flat=True))
    rows = []
    day = before
    while len(rows) < count:
        day -= timedelta(days=1)
        rows += [
            {"sla": pk, "period_start": str(day), "period_end": str(day),
             "value": f"{90 + pk % 10}.5", "source": "benchmark"}
            for pk in sla_ids
        ]  # fmt: skip
    return rows[:count]


def copy_measurements(rows, *, fk_checks: bool = True) -> float:
    """Seconds to COPY the rows (as an import batch of the bench user) and commit.

    Without foreign key checks (a superuser's session_replication_role), for the floor below it.
    The bench user is the client's manager: the values are recorded by the client side.
    """
    import io

    from django.db import connection, transaction

    from relationships.models import ImportBatch

    user = bench_user()
    started = time.perf_counter()
    with transaction.atomic():
        if not fk_checks:
            sql("SET LOCAL session_replication_role = replica")
        batch = ImportBatch.objects.create(actor=user, source="COPY", row_count=len(rows))
        now = datetime.now(UTC).isoformat()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow(
                (row["sla"], row["period_start"], row["period_end"], row["value"], row["source"],
                 user.pk, "client", now, batch.pk)
            )  # fmt: skip
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                "COPY relationships_measurement (sla_id, period_start, period_end, value, source, "
                "recorded_by_id, recorded_by_side, recorded_at, import_batch_id) "
                "FROM STDIN WITH (FORMAT csv)",
                buffer,
            )
    return time.perf_counter() - started


def production_env() -> dict:
    from cryptography.fernet import Fernet

    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        # testserver: the in-process query counts use Django's test client.
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "API_THROTTLE_USER": THROTTLE_USER,
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": EMAIL_BACKEND,
    }


@contextmanager
def processes(commands, ready):
    """Start commands in their own process groups; stop exactly those groups afterwards."""
    started = [subprocess.Popen(command, cwd=ROOT, start_new_session=True) for command in commands]
    try:
        ready()
        yield started
    finally:
        # SIGTERM to the main process only: celery and gunicorn then stop their
        # children after the work in hand (a warm shutdown).
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
            process.wait()


@contextmanager
def gunicorn():
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "accord.wsgi:application",
        f"--bind=127.0.0.1:{PORT}",
        f"--workers={GUNICORN_WORKERS}",
        "--timeout=300",
        "--log-level=warning",
    ]
    with processes([command], lambda: wait_for_http(f"{HOST}/healthz")):
        yield


def wait_for_http(url: str, timeout: float = 60):
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def celery_workers(count: int):
    from accord.celery import app

    app.control.purge()
    commands = [
        [str(Path(sys.executable).parent / "celery"), "-A", "accord", "worker", "-c", "1",
         "-n", f"bench{n}@%h", "--without-gossip", "--without-mingle", "-l", "warning"]
        for n in range(count)
    ]  # fmt: skip

    def ready():
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=0.5) or []) < count:
            if time.monotonic() > deadline:
                raise RuntimeError("celery workers did not start")

    with processes(commands, ready):
        yield


def locust(target: str, env: dict, seconds: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [str(Path(sys.executable).parent / "locust"), "-f", str(HERE / "locustfile.py"),
             "--headless", "-u", str(CLIENTS), "-r", str(CLIENTS), "-t", f"{seconds}s",
             "--host", HOST, "--csv", f"{out}/stats", "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env={**os.environ, **env, "BENCH_TARGET": target}, check=False,
            capture_output=True,
        )  # fmt: skip
        with open(f"{out}/stats_stats.csv") as stats:
            row = next(r for r in csv.DictReader(stats) if r["Name"] == "Aggregated")
    return {key: float(row[key]) for key in ("50%", "95%", "Requests/s", "Failure Count")}


# ---------------------------------------------------------------- the report
def machine() -> str:
    from django.db import connection

    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line),
        platform.processor(),
    )
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if "MemTotal" in line)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.0f} GB RAM, PostgreSQL {pg}"


def git_commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    dirty = " (uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    return git("rev-parse", "--short", "HEAD").strip() + dirty


def timed(action, runs: int = BACKTEST_RUNS) -> tuple[float, float]:
    """(median, p95) in milliseconds of `runs` calls of `action`."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), statistics.quantiles(timings, n=20)[-1]


def backtest_rows(f: dict) -> list[str]:
    (api_median, api_p95), (median, p95) = f["backtest_api_ms"], f["backtest_selector_ms"]
    target = TARGETS["backtest_ms"]
    return [
        f"| what-if back-test, POST engagements/{{id}}/what-if/ ({f['backtest_rows']} periods), "
        f"median / p95 of {BACKTEST_RUNS} | "
        f"{api_median:.0f} / {api_p95:.0f} ms | p95 ≤ {target} ms | | "
        f"{verdict(api_p95 <= target)} |",
        f"| — the engagement read and the selector alone (scoring_backtest; "
        f"{f['backtest_queries']} queries) | {median:.0f} / {p95:.0f} ms | | | |",
    ]


def search_rows(f: dict) -> list[str]:
    target = TARGETS["search_ms"]
    rows = []
    for word, w in f["search"].items():
        (page_median, page_p95), (median, p95) = w["page_ms"], w["selector_ms"]
        rows += [
            f"| search page, GET /search/?q={word} ({w['matches']} matches shown in "
            f"{w['engagements']} engagements; more than shown: {w['truncated']}), median / p95 "
            f"of {BACKTEST_RUNS} | {page_median:.0f} / {page_p95:.0f} ms | p95 < {target} ms | | "
            f"{verdict(page_p95 < target)} |",
            f"| — the search alone (overview.search.search; {w['queries']} queries) | "
            f"{median:.0f} / {p95:.0f} ms | | | |",
            f"| — its matches' SQL in the database (EXPLAIN ANALYZE: planning and execution; "
            f"median) | {w['sql_ms']:.1f} ms | | | |",
        ]
    return rows


def render_search(args, commit: str, f: dict, growth=None) -> str:
    return "\n".join(
        [
            f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · size {args.size} · search only "
            f"· commit {commit}",
            "",
            f"Machine: {machine()}. Data: {f['size']}, generate_data: {f['generate']}. As "
            "`bench`, who sees every engagement; the page in process (Django's test client, "
            f"signed in, DEBUG off). Load average (1 min): {f['load']}.",
            "",
            "| figure | value | target | ratio | verdict |",
            "| --- | --- | --- | --- | --- |",
            *search_rows(f),
        ]
    )


def freshness_rows(f: dict) -> list[str]:
    from django.conf import settings

    window = settings.SCORECARD_REFRESH_SECONDS
    gap = f["fresh_shortest_gap_s"]
    return [
        f"| freshness: commit → provisional scorecard during bulk ingestion "
        f"({f['fresh_rows']:,} rows over every engagement, 1 client, "
        f"{f['fresh_rows_per_s']:,.0f} rows/s; {FRESHNESS_WORKERS} workers), p50 / p95 / max | "
        f"{f['fresh_p50_s']:.1f} / {f['fresh_p95_s']:.1f} / {f['fresh_max_s']:.1f} s | "
        f"p95 ≤ {TARGETS['freshness_p95_s']:.0f} s | | "
        f"{verdict(f['fresh_p95_s'] <= TARGETS['freshness_p95_s'])} |",
        f"| — refreshes per engagement meanwhile ({f['fresh_ingest_s']:.1f} s of ingestion), "
        f"max / mean; engagements with more than one per {window} s window plus one, over "
        f"the time their refreshes span | {f['fresh_recomputes_max']} / "
        f"{f['fresh_recomputes_mean']:.1f}; {f['fresh_over_bound']} | 0 | | "
        f"{verdict(f['fresh_over_bound'] == 0)} |",
        f"| — shortest time between two refreshes of one engagement (starts) | "
        f"{'—' if gap is None else f'{gap:.2f} s'} | | | |",
    ]


def render_backtest(args, commit: str, f: dict, growth=None) -> str:
    return "\n".join(
        [
            f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · size {args.size} · back-test only "
            f"· commit {commit}",
            "",
            f"Machine: {machine()}. Data: {f['size']}, generate_data: {f['generate']}. One "
            f"engagement's periods computed as of {Bench(args).data_end + timedelta(days=10)}; "
            "the API operation in process (Django's test client, signed in, DEBUG off). Load "
            f"average (1 min): {f['load']}.",
            "",
            "| figure | value | target | ratio | verdict |",
            "| --- | --- | --- | --- | --- |",
            *backtest_rows(f),
        ]
    )


def render_live(args, commit: str, f: dict, growth=None) -> str:
    t = TARGETS
    ratio = f["recompute_s"] / f["floor_s"]
    writes = f["recompute_s"] - f["reads_s"] - f["scoring_s"]
    ingest = f["ingest_1_rows_per_s"]
    return "\n".join(
        [
            f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · size {args.size} · live scorecards "
            f"only · commit {commit}",
            "",
            f"Machine: {machine()}. Data: {f['size']}, generate_data: {f['generate']}. "
            f"Month recomputed: {benchmark_month():%Y-%m}. Reads: gunicorn {GUNICORN_WORKERS} "
            f"sync workers, DEBUG off, {CLIENTS} closed-loop locust clients, no think time, "
            f"{args.read_seconds} s after {args.warmup_seconds} s warm-up. Queries per request: "
            f"API {f['queries']['api']}, portfolio {f['queries']['portfolio']}. "
            f"Load average (1 min): {f['load']}.",
            "",
            "| figure | value | target | ratio | verdict |",
            "| --- | --- | --- | --- | --- |",
            f"| SQL floor (floor.sql, median of 3) | {f['floor_s']:.2f} s | | | |",
            f"| recompute, in-process chunks | {f['recompute_s']:.2f} s | ≤ "
            f"{t['recompute_vs_floor']}× floor | {ratio:.1f}× | "
            f"{verdict(ratio <= t['recompute_vs_floor'])} |",
            f"| — its reads: the chunks' engagements and inputs | {f['reads_s']:.2f} s | | "
            f"{f['reads_s'] / f['floor_s']:.1f}× floor | |",
            f"| — its scoring and inputs digests (pure Python) | {f['scoring_s']:.2f} s | | | |",
            f"| — the rest: its writes, alerts, events, bookkeeping | {writes:.2f} s | | "
            f"{writes / f['floor_s']:.1f}× floor | |",
            f"| rerun over unchanged inputs | {f['rerun_s']:.2f} s | | "
            f"{f['rerun_s'] / f['floor_s']:.1f}× floor | |",
            f"| bulk ingestion over HTTP ({f['ingest_rows']:,} rows, 1 client) | "
            f"{ingest:,.0f} rows/s | ≥ {t['ingest_rows_per_s']:,} rows/s | | "
            f"{verdict(ingest >= t['ingest_rows_per_s'])} |",
            f"| bulk ingestion over HTTP, 2 clients | {f['ingest_2_rows_per_s']:,.0f} rows/s "
            "| | | |",
            f"| COPY of the same rows | {f['copy_rows_per_s']:,.0f} rows/s | | | |",
            *freshness_rows(f),
            *read_rows(f),
        ]
    )


def read_rows(f: dict) -> list[str]:
    return [
        f"| {label} p50 / p95 | {f[f'{key}_p50_ms']:.0f} / {f[f'{key}_p95_ms']:.0f} ms "
        f"({f[f'{key}_rps']:.0f} req/s, {f[f'{key}_failures']:.0f} failed) | "
        f"p95 ≤ {TARGETS[f'{key}_p95_ms']} ms | | "
        f"{verdict(f[f'{key}_p95_ms'] <= TARGETS[f'{key}_p95_ms'])} |"
        for key, label in (
            ("api", "engagement list API"),
            ("portfolio", "portfolio page"),
            ("engagement", "engagement page"),
        )
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(args, commit: str, f: dict, growth: list[dict] | None) -> str:
    t = TARGETS
    ratio = f["recompute_s"] / f["floor_s"]
    speedup = f["workers_1_s"] / f["workers_2_s"]
    ingest = f["ingest_1_rows_per_s"]
    copy_ratio = f["copy_rows_per_s"] / ingest
    writes = f["recompute_s"] - f["reads_s"] - f["scoring_s"]
    lines = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · size {args.size} · commit {commit}",
        "",
        f"Machine: {machine()}. Data: {f['size']}, generate_data: {f['generate']}. "
        f"Month recomputed: {benchmark_month():%Y-%m}. Reads: gunicorn {GUNICORN_WORKERS} sync "
        f"workers, DEBUG off, {CLIENTS} closed-loop locust clients, no think time, "
        f"{args.read_seconds} s after {args.warmup_seconds} s warm-up; throttle rates "
        f"user {THROTTLE_USER}, anon 60/min (default). Queries per request: "
        f"API {f['queries']['api']}, portfolio {f['queries']['portfolio']}. "
        f"Load average (1 min): {f['load']}.",
        "",
        "| figure | value | target | ratio | verdict |",
        "| --- | --- | --- | --- | --- |",
        f"| SQL floor (floor.sql, median of 3) | {f['floor_s']:.2f} s | | | |",
        f"| recompute, in-process chunks | {f['recompute_s']:.2f} s | ≤ {t['recompute_vs_floor']}× "
        f"floor | {ratio:.1f}× | {verdict(ratio <= t['recompute_vs_floor'])} |",
        f"| — its reads: the chunks' engagements and inputs | {f['reads_s']:.2f} s | | "
        f"{f['reads_s'] / f['floor_s']:.1f}× floor | |",
        f"| — its scoring and inputs digests (pure Python) | {f['scoring_s']:.2f} s | | | |",
        f"| — the rest: its writes, alerts, events, bookkeeping | {writes:.2f} s | | "
        f"{writes / f['floor_s']:.1f}× floor | |",
        f"| outbox drain of that run (a separate task) | {f['drain_s']:.2f} s | | | |",
        f"| rerun over unchanged inputs | {f['rerun_s']:.2f} s | | "
        f"{f['rerun_s'] / f['floor_s']:.1f}× floor | |",
        f"| recompute, 1 worker | {f['workers_1_s']:.2f} s | | | |",
        f"| recompute, 2 workers | {f['workers_2_s']:.2f} s | ≥ {t['two_workers_speedup']}× "
        f"faster | {speedup:.2f}× | {verdict(speedup >= t['two_workers_speedup'])} |",
        f"| bulk ingestion over HTTP ({f['ingest_rows']:,} rows, 1 client) | "
        f"{ingest:,.0f} rows/s | ≥ {t['ingest_rows_per_s']:,} rows/s | | "
        f"{verdict(ingest >= t['ingest_rows_per_s'])} |",
        f"| bulk ingestion over HTTP, 2 clients | {f['ingest_2_rows_per_s']:,.0f} rows/s | | | |",
        f"| COPY of the same rows | {f['copy_rows_per_s']:,.0f} rows/s | HTTP within "
        f"{t['ingest_vs_copy']:.0f}× | {copy_ratio:.1f}× | "
        f"{verdict(copy_ratio <= t['ingest_vs_copy'])} |",
        f"| engagement list API p50 / p95 | {f['api_p50_ms']:.0f} / {f['api_p95_ms']:.0f} ms "
        f"({f['api_rps']:.0f} req/s, {f['api_failures']:.0f} failed) | p95 ≤ {t['api_p95_ms']} ms"
        f" | | {verdict(f['api_p95_ms'] <= t['api_p95_ms'])} |",
        f"| portfolio page p50 / p95 | {f['portfolio_p50_ms']:.0f} / "
        f"{f['portfolio_p95_ms']:.0f} ms ({f['portfolio_rps']:.0f} req/s, "
        f"{f['portfolio_failures']:.0f} failed) | p95 ≤ {t['portfolio_p95_ms']} ms | | "
        f"{verdict(f['portfolio_p95_ms'] <= t['portfolio_p95_ms'])} |",
        f"| engagement page p50 / p95 | {f['engagement_p50_ms']:.0f} / "
        f"{f['engagement_p95_ms']:.0f} ms ({f['engagement_rps']:.0f} req/s, "
        f"{f['engagement_failures']:.0f} failed) | p95 ≤ {t['engagement_p95_ms']} ms | | "
        f"{verdict(f['engagement_p95_ms'] <= t['engagement_p95_ms'])} |",
        *freshness_rows(f),
        *backtest_rows(f),
        *search_rows(f),
    ]
    if growth:
        lines += [
            "",
            "Growth (reads measured for 30 s each):",
            "",
            "| engagements × days | floor | recompute | API p95 | portfolio p95 |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {g['engagements']:,} × {g['days']} | {g['floor_s']:.2f} s | "
            f"{g['recompute_s']:.2f} s | {g['api_p95_ms']:.0f} ms | "
            f"{g['portfolio_p95_ms']:.0f} ms |"
            for g in sorted(growth, key=lambda g: g["engagements"])
        ]
        by_size = {g["engagements"]: g for g in growth}
        if 1000 in by_size and 10_000 in by_size:
            small, big = by_size[1000], by_size[10_000]
            rec = big["recompute_s"] / small["recompute_s"]
            read = max(
                big["api_p95_ms"] / small["api_p95_ms"],
                big["portfolio_p95_ms"] / small["portfolio_p95_ms"],
            )
            lines += [
                "",
                f"1,000 → 10,000 engagements: recompute {rec:.1f}× (target ≤ "
                f"{t['growth_recompute']:.0f}×, {verdict(rec <= t['growth_recompute'])}); "
                f"read p95 {read:.1f}× at worst (target ≤ {t['growth_read']:.0f}×, "
                f"{verdict(read <= t['growth_read'])}).",
            ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
