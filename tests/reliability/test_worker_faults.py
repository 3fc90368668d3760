"""Worker faults on a real broker and database: nothing is lost, nothing is duplicated.

Real `celery worker` and `celery beat` processes run on the test database and on a
redis-server of the test's own (no other test's unacknowledged messages come back
here), with a 5-second visibility timeout. Faults come from FAULTY_CELERY: the
processes wrap the scoring model so that, per engagement, it logs progress, works
slowly, raises or kills its own process, as the environment names.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import yaml
from django.conf import settings

from relationships.periods import period_containing
from scorecards.compute import compute_chunk
from scorecards.models import OutboxEvent, Scorecard, ScorecardRun, ScorecardRunChunk
from scorecards.tasks import compute_period_task
from tests.conftest import need
from tests.factories import CheckInFactory, EngagementFactory
from tests.reliability import faults_summary
from tests.reliability.faults_summary import FAULTS, LOST
from tests.scorecards.conftest import MARCH, make_engagements

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT = 5
PERIODIC_SENT = "Sending due task compute-scorecards"
# available_apps makes the flush after each test TRUNCATE ... CASCADE (see tests/scorecards).
transactional = pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)
pytestmark = [pytest.mark.slow, pytest.mark.real_broker, transactional]

# Run as `python -c FAULTY_CELERY worker|beat ...`: Celery with faults from the environment.
FAULTY_CELERY = """
import os, sys, time
import django

django.setup()
from django.db import OperationalError
from accord.celery import app
from scorecards import compute, scoring

def ids(name):
    return {int(i) for i in os.environ.get(name, "").split(",") if i}

score_engagement = scoring.score_engagement
add = compute._ChunkWriter.add
scoring_now = {}

def add_noting_the_engagement(self, engagement, *args):
    scoring_now["engagement"] = engagement.pk  # the inputs do not carry it
    return add(self, engagement, *args)

def faulty_score(inputs, *args, **kwargs):
    engagement = scoring_now["engagement"]
    with open(os.environ["FAULTS_PROGRESS"], "a") as progress:
        progress.write(f"{os.environ['FAULTS_NAME']} {os.getpid()} {engagement}\\n")
    if engagement in ids("FAULTS_DIE_ON"):
        os.kill(os.getpid(), 9)
    if engagement in ids("FAULTS_RAISE_ON"):
        raise RuntimeError(f"engagement {engagement} always crashes")
    if engagement in ids("FAULTS_DB_ERROR_ON"):
        raise OperationalError(f"engagement {engagement}: database connection lost")
    time.sleep(float(os.environ.get("FAULTS_SLOW_SECONDS", "0")))
    return score_engagement(inputs, *args, **kwargs)

scoring.score_engagement = faulty_score
compute._ChunkWriter.add = add_noting_the_engagement
# Sweep for unacknowledged messages every second (kombu's default is about every 100 s), so a
# killed worker's message comes back soon after the short visibility timeout.
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
if os.environ.get("FAULTS_BEAT_EVERY"):
    app.conf.beat_schedule = {
        name: {**entry, "schedule": float(os.environ["FAULTS_BEAT_EVERY"])}
        for name, entry in app.conf.beat_schedule.items()
    }
app.start(sys.argv[1:])
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, what: str, timeout: float = 60, logs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    tails = "\n".join(f"--- {log}\n{log.read_text()[-3000:]}" for log in logs if log.exists())
    pytest.fail(f"timed out waiting for {what}\n{tails}")


class RedisServer:
    """A redis-server of the test's own on a free port, never the machine's shared one."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self.up, "redis-server to start", timeout=10)

    def idle(self) -> bool:
        """No message waiting in the default queue and none delivered but unacknowledged."""
        client = redis.Redis(port=self.port)
        return client.llen("celery") == 0 and client.hlen("unacked") == 0

    def up(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def celery_app_on(url: str):
    """Point this process's Celery app at `url` (tasks sent from the test, /healthz)."""
    from accord.celery import app

    def repoint(urls):
        # broker_url itself stays as Django's settings gave it; the read and write URLs win.
        app.conf.broker_read_url, app.conf.broker_write_url = urls
        # The app caches a connection pool and a producer pool for the old broker.
        app._pool = None
        app.amqp._producer_pool = None

    previous = (app.conf.broker_read_url, app.conf.broker_write_url)
    repoint((url, url))
    try:
        yield app
    finally:
        repoint(previous)


@pytest.fixture(autouse=True)
def faults_in_the_summary(request):
    """Prints what the fault proofs injected and lost at the end of the run."""
    plugins = request.config.pluginmanager
    if not plugins.is_registered(faults_summary):
        plugins.register(faults_summary, "faults_summary")


@pytest.fixture(name="broker")  # named, so test_broker_down imports it without shadowing
def broker_fixture(require_postgres, require_redis):
    need(shutil.which("redis-server") is not None, "redis-server")
    server = RedisServer()
    server.start()
    with celery_app_on(server.url):
        yield server
    server.stop()


class Fleet:
    """Celery processes on the test database and the test's broker, each in its own group."""

    def __init__(self, broker: RedisServer, folder: Path):
        self.broker = broker
        self.folder = folder
        self.progress_file = folder / "progress.log"
        self.progress_file.touch()
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        database = settings.DATABASES["default"]
        log = self.folder / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-c", FAULTY_CELERY, *args],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:"
                f"{database['PORT']}/{database['NAME']}",
                "CELERY_BROKER_URL": self.broker.url,
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                "FAULTS_PROGRESS": str(self.progress_file),
                "FAULTS_NAME": name,
                **env,
            },
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group: a kill takes the pool processes too
        )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def worker(self, name: str, concurrency: int = 2, **env: str) -> subprocess.Popen:
        return self.start(
            name,
            "worker",
            f"--hostname={name}@%h",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=info",
            **env,
        )

    def wait_ready(self, *workers: subprocess.Popen) -> None:
        logs = [self.logs[self.processes.index(worker)] for worker in workers]
        wait_until(lambda: all("ready." in log.read_text() for log in logs), "workers", 30, logs)

    def beat(self, name: str, every: float) -> subprocess.Popen:
        schedule = self.folder / f"{name}-schedule"
        return self.start(
            name,
            "beat",
            "--loglevel=info",
            f"--schedule={schedule}",
            FAULTS_BEAT_EVERY=str(every),
        )

    def progress(self) -> list[tuple[str, int, int]]:
        """(process name, pid, engagement id) each time a process started scoring an engagement."""
        lines = self.progress_file.read_text().split()
        return [(lines[i], int(lines[i + 1]), int(lines[i + 2])) for i in range(0, len(lines), 3)]

    def wait_for_progress(self, predicate, what: str, timeout: float = 30):
        return wait_until(lambda: predicate(self.progress()), what, timeout, self.logs)

    def kill(self, pid: int, fault: str, group: bool = False) -> None:
        os.killpg(pid, signal.SIGKILL) if group else os.kill(pid, signal.SIGKILL)
        FAULTS[fault] += 1

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def close(self) -> None:
        """The proofs are done: end every process at once (a warm shutdown takes seconds)."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(name="fleet")
def fleet_fixture(broker, tmp_path):
    fleet = Fleet(broker, tmp_path)
    yield fleet
    fleet.close()


def finished_runs(count: int, fleet: Fleet, timeout: float = 90) -> list[ScorecardRun]:
    def all_finished():
        runs = list(ScorecardRun.objects.order_by("pk"))
        done = [run for run in runs if run.status in ("succeeded", "failed")]
        finished = len(runs) >= count and len(done) == len(runs)
        return runs if finished and fleet.broker.idle() else None

    return wait_until(all_finished, f"{count} runs to finish", timeout, fleet.logs)


def new_run(period_start=MARCH) -> ScorecardRun:
    return ScorecardRun.objects.create(
        trigger=ScorecardRun.Trigger.COMMAND, period_kind="month", period_start=period_start
    )


def assert_one_complete_scorecard_each(engagement_ids, periods, *, proof: str) -> None:
    """Exactly one scorecard per engagement and period, each as a clean computation gives it.

    Counted in the summary as lost before the assertions, so a failure still reports it.
    """
    stored = Counter(Scorecard.objects.values_list("engagement_id", "period_start"))
    wanted = {(pk, start) for pk in engagement_ids for start in periods}
    LOST[f"scorecards missing ({proof})"] += len(wanted - set(stored))
    LOST[f"scorecards duplicated ({proof})"] += sum(n - 1 for n in stored.values())
    events = Counter(
        OutboxEvent.objects.filter(kind="scorecard.computed").values_list(
            "engagement_id", "payload__scorecard__period_start"
        )
    )
    LOST[f"scorecard events sent twice ({proof})"] += sum(n - 1 for n in events.values())
    assert set(stored) == wanted and set(stored.values()) == {1}
    assert set(events.values()) == {1} and len(events) == len(wanted)
    for start in periods:
        # A clean recompute finds every stored row already right: nothing partial was kept.
        assert compute_chunk(engagement_ids, "month", start).scorecards_written == 0
    assert not Scorecard.objects.filter(explanation={}).exists()


def test_killed_workers_leave_one_complete_scorecard_per_engagement(fleet):
    engagements = make_engagements(6)
    ids = [e.pk for e in engagements]
    run = new_run()
    fleet.worker("first", SCORECARD_CHUNK_SIZE="3", FAULTS_SLOW_SECONDS="0.8")
    compute_period_task.delay(run.pk)

    # Fault 1: SIGKILL the pool process scoring a chunk after its first engagement.
    (_, victim, engagement), *_ = fleet.wait_for_progress(list, "a chunk to start")
    (victims_chunk,) = [
        ids for ids in run.chunks.values_list("engagement_ids", flat=True) if engagement in ids
    ]
    before = len(fleet.progress())
    fleet.kill(victim, "worker pool process killed mid-chunk")
    # Celery sees the lost process and requeues the message at once (reject_on_worker_lost).
    fleet.wait_for_progress(
        lambda seen: [line for line in seen[before:] if line[2] in victims_chunk],
        "the killed chunk to start again",
    )
    # Whatever ran so far, each chunk's scorecards are all there or none are.
    for chunk_ids in run.chunks.values_list("engagement_ids", flat=True):
        assert Scorecard.objects.filter(engagement_id__in=chunk_ids).count() in (0, len(chunk_ids))

    # Fault 2: SIGKILL the whole worker while that chunk is half done again; its message
    # stays unacknowledged on the broker.
    first = fleet.processes[0]
    fleet.kill(first.pid, "whole worker killed mid-chunk", group=True)
    first.wait()
    assert run.chunks.filter(status="pending").exists()

    # A new worker gets the unacknowledged chunks back once the visibility timeout passes.
    fleet.worker("second", SCORECARD_CHUNK_SIZE="3")
    (run,) = finished_runs(1, fleet)

    assert (run.status, run.chunks_total, run.chunks_done, run.chunks_failed) == (
        "succeeded",
        2,
        2,
        0,
    )
    assert run.scorecards_written == len(ids)
    assert max(run.chunks.values_list("attempts", flat=True)) >= 2
    assert_one_complete_scorecard_each(ids, [MARCH], proof="killed workers")


def test_two_workers_and_two_runs_of_one_period_write_each_scorecard_once(fleet):
    engagements = make_engagements(6)
    ids = [e.pk for e in engagements]
    runs = [new_run(), new_run()]
    fleet.wait_ready(
        *(
            fleet.worker(name, SCORECARD_CHUNK_SIZE="2", FAULTS_SLOW_SECONDS="0.3")
            for name in ("left", "right")
        )
    )
    compute_period_task.delay(runs[0].pk)
    compute_period_task.delay(runs[0].pk)  # delivered twice, as after a lost acknowledgement
    compute_period_task.delay(runs[1].pk)
    FAULTS["duplicate compute_period message"] += 1

    runs = finished_runs(2, fleet)

    assert [(r.status, r.chunks_total, r.chunks_done) for r in runs] == [("succeeded", 3, 3)] * 2
    # Both workers scored engagements; the first write of each won, the others found it done.
    assert {name for name, _, _ in fleet.progress()} == {"left", "right"}
    assert sum(run.scorecards_written for run in runs) == len(ids)
    assert_one_complete_scorecard_each(ids, [MARCH], proof="two workers")


def test_chunks_that_crash_every_time_stop_after_bounded_attempts(fleet):
    healthy, raising, dying, database_down = make_engagements(4)
    run = new_run()
    fleet.worker(
        "crashing",
        concurrency=4,  # one process per chunk: the crash loops run side by side
        SCORECARD_CHUNK_SIZE="1",
        FAULTS_RAISE_ON=str(raising.pk),
        FAULTS_DIE_ON=str(dying.pk),
        FAULTS_DB_ERROR_ON=str(database_down.pk),
        # The worker itself lives: it requeues a dead process's chunk at once. A visibility
        # timeout this short would also restore that message while its requeued copy runs,
        # and two copies claiming at once made the count of claims 7 now and then.
        CELERY_VISIBILITY_TIMEOUT="300",
    )
    compute_period_task.delay(run.pk)

    (run,) = finished_runs(1, fleet, timeout=120)

    attempts = Counter(engagement for _, _, engagement in fleet.progress())
    FAULTS["chunk raising every time"] += attempts[raising.pk]
    FAULTS["pool process dying every time"] += attempts[dying.pk]
    FAULTS["transient database error every time"] += attempts[database_down.pk]
    chunks = {chunk.engagement_ids[0]: chunk for chunk in run.chunks.all()}
    assert (run.status, run.chunks_done, run.chunks_failed) == ("failed", 1, 3)
    assert chunks[healthy.pk].status == "done"
    assert "RuntimeError" in chunks[raising.pk].error and attempts[raising.pk] == 1
    # Celery retries transient errors (max_retries=3); the attempt count in the database bounds
    # even duplicated deliveries.
    assert "OperationalError" in chunks[database_down.pk].error
    assert 2 <= attempts[database_down.pk] <= ScorecardRunChunk.MAX_ATTEMPTS
    # A process that dies is redelivered each time until the chunk's attempts run out.
    assert f"Gave up after {ScorecardRunChunk.MAX_ATTEMPTS}" in chunks[dying.pk].error
    assert attempts[dying.pk] == ScorecardRunChunk.MAX_ATTEMPTS
    assert chunks[dying.pk].attempts == ScorecardRunChunk.MAX_ATTEMPTS + 1
    assert run.error  # the run says why
    assert list(Scorecard.objects.values_list("engagement_id", flat=True)) == [healthy.pk]


def test_a_second_beat_dispatches_nothing_twice(fleet):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = {name: service.get("command") for name, service in compose["services"].items()}
    beats = [
        compose["services"][name]
        for name, command in commands.items()
        if "beat" in (command if isinstance(command, list) else str(command).split())
    ]
    assert len(beats) == 1 and beats[0]["deploy"]["replicas"] == 1  # the deployment's guarantee

    # And even a second beat is harmless: planning is serialised and compute is keyed.
    today = datetime.now(UTC).date()
    current = period_containing("month", today)
    previous = current.previous()
    engagements = [EngagementFactory(start_date=previous.start) for _ in range(3)]
    for engagement in engagements:
        CheckInFactory(engagement=engagement, occurred_at=datetime.now(UTC) - timedelta(days=1))
    fleet.worker("worker")
    beats = [fleet.beat(name, every=0.5) for name in ("beat-a", "beat-b")]
    dispatches = wait_until(
        lambda: (
            all(log.read_text().count(PERIODIC_SENT) >= 4 for log in fleet.logs[1:])
            and [log.read_text().count(PERIODIC_SENT) for log in fleet.logs[1:]]
        ),
        "both beats to dispatch",
        logs=fleet.logs,
    )
    for beat in beats:
        fleet.stop(beat)
    FAULTS["second beat dispatching compute_periodic"] += dispatches[1]

    runs = finished_runs(2, fleet)

    assert {run.status for run in runs} == {"succeeded"}
    # Never two runs of one period in flight at once: each starts after the last one finished.
    for start in (previous.start, current.start):
        of_period = [run for run in runs if run.period_start == start]
        assert of_period
        for earlier, later in zip(of_period, of_period[1:], strict=False):
            assert later.created_at >= earlier.finished_at
    assert_one_complete_scorecard_each(
        [e.pk for e in engagements], [previous.start, current.start], proof="two beats"
    )
