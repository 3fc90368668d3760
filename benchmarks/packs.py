"""Review pack benchmarks (issue 21): one pack of one period, and an organisation's packs
of a quarter (1,000 by default) made in the background by 2 Celery workers.

    python benchmarks/packs.py                       # 1,000 engagements × 10 SLAs × 92 days
    python benchmarks/packs.py --engagements 200     # a smaller set (say so in RESULTS.md)

The data are generate_data's over the last closed quarter only (92 days of measurements,
not size L's 365: the packs read one quarter, and generating a year takes long on a busy
machine). Needs DATABASE_URL (a scratch PostgreSQL database: it is emptied) and
CELERY_BROKER_URL (Redis). Prints a table and appends it to benchmarks/RESULTS.md.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402  (benchmarks/run.py: the shared set-up and helpers)
    ROOT,
    celery_workers,
    git_commit,
    machine,
    manage,
    production_env,
    require_services,
    sql,
)

TARGET_ONE_PACK_S = 1.0
ONE_PACK_RUNS = 10
WORKERS = 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engagements", type=int, default=1000)
    parser.add_argument("--skip-generate", action="store_true", help="reuse data of this size")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    commit = git_commit()
    require_services()
    os.environ.update(production_env())
    media = tempfile.mkdtemp(prefix="accord-packs-")
    os.environ["MEDIA_ROOT"] = media  # this process and the workers store packs there
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()
    manage("migrate", "--noinput", "-v0")
    load_before = os.getloadavg()
    quarter = last_closed_quarter()
    figures = {"quarter": quarter.title}
    figures["generate"] = generate(args, quarter)
    figures["compute_s"] = compute_months(quarter)
    figures.update(one_pack(quarter))
    figures.update(portfolio(args, quarter))
    figures["load"] = f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
    report = render(args, commit, figures)
    print(report)
    if not args.no_record:
        with open(HERE / "RESULTS.md", "a") as results:
            results.write(report + "\n")


def last_closed_quarter():
    from relationships.periods import QUARTER, period_containing

    today = datetime.now(UTC).date()
    # Closed for any engagement: the one before the quarter in progress, a month after it.
    quarter = period_containing(QUARTER, today).previous()
    if (today - quarter.end).days < 31:
        quarter = quarter.previous()
    return quarter


def generate(args, quarter) -> str:
    from relationships.models import Engagement, Measurement

    days = quarter.days
    if (
        args.skip_generate
        and Engagement.objects.count() == args.engagements
        and Measurement.objects.current().filter(period_start__gte=quarter.start).exists()
    ):
        return "reused from an earlier run"
    output = manage(
        "generate_data",
        f"--engagements={args.engagements}",
        f"--days={days}",
        f"--end={quarter.end}",
        "--reset",
        "--no-progress",
    )
    sql("VACUUM (ANALYZE)")
    total = next(line for line in output.splitlines() if line.startswith("total"))
    # "total   1,048,146 rows   113.9 s   9,202 rows/s" → "1,048,146 rows · 113.9 s · …"
    return " · ".join(re.split(r"\s{2,}", total.split(None, 1)[1].strip()))


def compute_months(quarter) -> float:
    """The quarter's months' scorecards (and the month before, for trends), in process."""
    from accord.celery import app
    from scorecards import runs
    from scorecards.models import ScorecardRun

    app.conf.task_always_eager = True
    started = time.perf_counter()
    month = (quarter.start - timedelta(days=1)).replace(day=1)
    while month <= quarter.end:
        run = ScorecardRun.objects.create(
            trigger="command", period_kind="month", period_start=month
        )
        runs.start_run(run.pk)
        month = (month + timedelta(days=32)).replace(day=1)
    app.conf.task_always_eager = False
    return time.perf_counter() - started


def one_pack(quarter) -> dict:
    """One engagement's pack of the quarter's last month, made from nothing ONE_PACK_RUNS
    times (its stored file removed in between): the content, the PDF, and both with the
    store, as a first download meets them; then a second download, from the store."""
    from packs import selectors, services
    from packs.models import ReviewPack
    from relationships.models import Engagement

    engagement = (
        Engagement.objects.filter(scorecards__period_start=quarter.end.replace(day=1))
        .select_related("client", "provider")
        .order_by("pk")
        .first()
    )
    start = quarter.end.replace(day=1)
    content_s, render_s, total_s = [], [], []
    for _ in range(ONE_PACK_RUNS):
        for pack in ReviewPack.objects.filter(engagement=engagement):
            pack.file.delete(save=False)
        ReviewPack.objects.filter(engagement=engagement).delete()
        started = time.perf_counter()
        scope = selectors.pack_scope(engagement, start)
        content = selectors.pack_content(engagement, scope)
        content_s.append(time.perf_counter() - started)
        rendered = time.perf_counter()
        pdf = services.pack_render(content, generated_at=datetime.now(UTC))
        render_s.append(time.perf_counter() - rendered)
        ReviewPack.objects.filter(engagement=engagement).delete()
        started = time.perf_counter()
        services.pack_for(engagement=engagement, period_start=start)
        total_s.append(time.perf_counter() - started)
    started = time.perf_counter()
    services.pack_for(engagement=engagement, period_start=start)
    stored_s = time.perf_counter() - started
    return {
        "one_content": statistics.median(content_s),
        "one_render": statistics.median(render_s),
        "one_total": statistics.median(total_s),
        "one_total_max": max(total_s),
        "one_stored": stored_s,
        "one_pages": pdf.count(b"/Type /Page\n") or pdf.count(b"/Type/Page"),
        "one_bytes": len(pdf),
    }


def portfolio(args, quarter) -> dict:
    """The client organisation's packs of the quarter (one per engagement, all monthly), by
    WORKERS Celery worker processes, timed from the request to the zip."""
    from django.contrib.auth import get_user_model

    from packs.models import PortfolioPack, ReviewPack
    from packs.portfolio import portfolio_pack_request
    from relationships.models import Membership, Organization
    from sampledata.management.commands.generate_data import CLIENT_NAME

    ReviewPack.objects.all().delete()
    organization = Organization.objects.get(name=CLIENT_NAME)
    admin, _ = get_user_model().objects.get_or_create(username="bench-pack-admin")
    Membership.objects.get_or_create(user=admin, organization=organization, role="admin")
    with celery_workers(WORKERS):
        started = time.perf_counter()
        job = portfolio_pack_request(
            organization=organization, user=admin, quarter_start=quarter.start
        )
        while not job.is_finished:
            time.sleep(0.5)
            job.refresh_from_db()
        elapsed = time.perf_counter() - started
    assert job.status == PortfolioPack.Status.SUCCEEDED, (job.status, job.error)
    return {
        "portfolio_s": elapsed,
        "portfolio_packs": job.packs_made,
        "portfolio_engagements": job.engagements_total,
        "portfolio_chunks": job.chunks_total,
        "portfolio_zip_mb": job.file.size / 1024 / 1024,
    }


def render(args, commit, f) -> str:
    now = datetime.now(UTC)
    verdict = "met" if f["one_total"] <= TARGET_ONE_PACK_S else "missed"
    per_pack = f["portfolio_s"] / max(f["portfolio_packs"], 1)
    return "\n".join(
        [
            f"## {now:%Y-%m-%d %H:%M} UTC · review packs · commit {commit}",
            "",
            f"Machine: {machine()}. Data: generate_data, {args.engagements:,} engagements × "
            f"10 SLAs × the {f['quarter']} quarter's days of measurements (not size L's 365: "
            f"the packs read one quarter), {f['generate']}; the quarter's months and the one "
            f"before computed in process in {f['compute_s']:.0f} s. Load average (1 min): "
            f"{f['load']}.",
            "",
            "| figure | value | target | verdict |",
            "| --- | --- | --- | --- |",
            f"| one pack of one month, made from nothing (content + PDF + store), median / "
            f"max of {ONE_PACK_RUNS} | {f['one_total'] * 1000:.0f} / "
            f"{f['one_total_max'] * 1000:.0f} ms | < 1 s | {verdict} |",
            f"| — its content (packs.selectors.pack_content) | "
            f"{f['one_content'] * 1000:.0f} ms | | |",
            f"| — its PDF (Typst; {f['one_bytes'] / 1024:.0f} KB) | "
            f"{f['one_render'] * 1000:.0f} ms | | |",
            f"| the same pack asked again (the stored file) | {f['one_stored'] * 1000:.0f} ms | "
            "| |",
            f"| {f['portfolio_packs']:,} quarter packs of {f['portfolio_engagements']:,} "
            f"engagements ({f['portfolio_chunks']} chunks), request to zip, {WORKERS} workers | "
            f"{f['portfolio_s']:.0f} s ({per_pack * 1000:.0f} ms a pack; zip "
            f"{f['portfolio_zip_mb']:.1f} MB) | reported | |",
            "",
        ]
    )


if __name__ == "__main__":
    main()
