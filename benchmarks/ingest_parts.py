"""Bulk ingestion alone: end to end over HTTP, per part in-process, and the COPY floors.

    python benchmarks/ingest_parts.py                 # all three, 20 requests of 10,000 rows
    python benchmarks/ingest_parts.py --only http --requests 10

Needs the size L data of run.py in DATABASE_URL (a scratch database; the rows it
adds are deleted again). Rows, requests and settings are those of run.py's
`ingest`; gunicorn listens on --port (8811 by default, so a run.py on 8801 is not
disturbed). Figures are medians per 10,000-row request, so that load from other work
on the machine shows as spread rather than as a shifted total.
"""

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (benchmarks/run.py: the same settings, token and gunicorn helpers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("http", "parts", "copy"), action="append")
    parser.add_argument("--requests", type=int, default=20, help="10,000-row requests per figure")
    parser.add_argument("--port", type=int, default=8811)
    args = parser.parse_args()
    run.require_services()
    os.environ.update(run.production_env())
    import django

    django.setup()
    bodies, first = request_bodies(2 * args.requests)  # http alternates with COPY
    for part in args.only or ("http", "parts", "copy"):
        {"http": http, "parts": parts, "copy": copy}[part](args, bodies, first)


def request_bodies(count: int):
    """run.py's rows, `count` requests of them, on days before the generated data."""
    import orjson

    from relationships.models import Measurement

    first = Measurement.objects.order_by("period_start").values_list("period_start", flat=True)[0]
    size = run.BULK_ROWS_PER_REQUEST
    rows = run.new_measurement_rows(before=first, count=count * size)
    return [orjson.dumps({"rows": rows[i : i + size]}) for i in range(0, count * size, size)], first


def remove(first):
    from relationships.models import ImportBatch

    run.sql("DELETE FROM relationships_measurement WHERE period_start < %s", [first])
    ImportBatch.objects.filter(source__in=("API bulk (JSON)", "COPY")).delete()


def report(name: str, seconds: list[float]):
    median = statistics.median(seconds)
    rate = f"  ({run.BULK_ROWS_PER_REQUEST / median:,.0f} rows/s)" if median > 0.05 else ""
    print(
        f"{name:<44} median {median * 1000:7.1f} ms  min {min(seconds) * 1000:7.1f}  "
        f"max {max(seconds) * 1000:7.1f}{rate}",
        flush=True,
    )


# ---------------------------------------------------------------- end to end
def http(args, bodies, first):
    """Each request over HTTP followed by a COPY of as many other rows (FK checks on):
    the two are timed under the same load, so their ratio varies far less than either."""
    import orjson
    import requests

    run.HOST = f"http://127.0.0.1:{args.port}"
    run.PORT = args.port
    url = f"{run.HOST}/api/v1/measurements/bulk/"
    headers = {"Authorization": f"Token {run.api_token()}", "Content-Type": "application/json"}
    posts, copies = [], []
    with run.gunicorn(), requests.Session() as session:
        # Warm every worker (views imported, connection open): run.py's first requests
        # also pay that, once per worker; here the figures are of the steady state.
        small = orjson.dumps({"rows": orjson.loads(bodies[0])["rows"][:100]})
        for _ in range(3 * run.GUNICORN_WORKERS):
            session.post(url, data=small, headers=headers, timeout=300)
            remove(first)
        for body, other in zip(bodies[::2], bodies[1::2], strict=True):
            begun = time.perf_counter()
            response = session.post(url, data=body, headers=headers, timeout=300)
            posts.append(time.perf_counter() - begun)
            assert response.status_code == 201, response.text[:500]
            copies.append(copy_rows(other, fk_checks=True))
    remove(first)
    report("HTTP, 1 client, per request", posts)
    print(f"{'HTTP, 1 client, mean':<44} {statistics.mean(posts) * 1000:7.1f} ms")
    report("COPY of as many rows, FK checks on, between", copies)
    ratios = [p / c for p, c in zip(posts, copies, strict=True)]
    print(f"{'HTTP ÷ COPY, request by request':<44} median {statistics.median(ratios):.2f}×")


# ---------------------------------------------------------------- in-process parts
def parts(args, bodies, first):
    """The view called in-process, each request's time split into SQL statements and COMMIT."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {run.api_token()}")
    requests = []

    def timed(execute, sql, params, many, context):
        begun = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            requests[-1][statement_name(sql)] += time.perf_counter() - begun

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    for body in bodies[: args.requests]:
        requests.append(defaultdict(float))
        begun, cpu, backend_cpu = time.perf_counter(), time.process_time(), cpu_seconds(backend)
        with connection.execute_wrapper(timed), commit_timer(requests):
            response = client.post(
                "/api/v1/measurements/bulk/", body, content_type="application/json"
            )
        total = time.perf_counter() - begun
        assert response.status_code == 201, response.content[:500]
        requests[-1]["Python (the rest)"] = total - sum(requests[-1].values())
        requests[-1]["request in-process"] = total
        # CPU seconds depend far less on other work on the machine than wall time does.
        requests[-1]["CPU: Python process"] = time.process_time() - cpu
        requests[-1]["CPU: PostgreSQL backend"] = cpu_seconds(backend) - backend_cpu
    remove(first)
    for name in sorted({name for parts in requests for name in parts}):
        report(name, [parts[name] for parts in requests])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a local process (PostgreSQL runs on this machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def statement_name(sql: str) -> str:
    words = sql.split()
    if words[0] in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return words[0]
    if words[0] == "INSERT":
        return f"INSERT {words[2]}"
    if words[0] == "SELECT":
        return f"SELECT … FROM {words[words.index('FROM') + 1]}" if "FROM" in words else "SELECT"
    return " ".join(words[:2])


@contextmanager
def commit_timer(requests):
    """COMMIT does not pass through execute wrappers: time it on the connection."""
    from django.db import connection

    original = connection._commit

    def commit():
        begun = time.perf_counter()
        try:
            return original()
        finally:
            requests[-1]["COMMIT"] += time.perf_counter() - begun

    connection._commit = commit
    try:
        yield
    finally:
        del connection._commit


# ---------------------------------------------------------------- floors
def copy(args, bodies, first):
    """COPY of the same rows per request, with and without the foreign key triggers."""
    for label, fk_checks in (("COPY, FK checks on", True), ("COPY, FK triggers off", False)):
        timings = [copy_rows(body, fk_checks=fk_checks) for body in bodies[: args.requests]]
        remove(first)
        report(label, timings)


def copy_rows(body: bytes, *, fk_checks: bool) -> float:
    """Seconds to COPY a request's rows as one import batch and commit."""
    import orjson

    return run.copy_measurements(orjson.loads(body)["rows"], fk_checks=fk_checks)


if __name__ == "__main__":
    main()
