"""Real `celery worker` and `celery beat` processes for the fault proofs, with faults injected.

The processes run on the test database and on a redis-server of the test's own (no other
test's unacknowledged messages come back there), with a 5-second visibility timeout. Faults
come from FAULTY_CELERY: the processes wrap the scoring model so that, per engagement, it
logs progress, works slowly, waits for a file, raises or kills its own process, as the
environment names.
The `broker` and `fleet` fixtures are in conftest.py.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.reliability.faults_summary import FAULTS

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT = 5
# available_apps makes the flush after each test TRUNCATE ... CASCADE (see tests/scorecards).
transactional = pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)
# The marks of every test module that runs a fleet.
FLEET_MARKS = [pytest.mark.slow, pytest.mark.real_broker, transactional]

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
    # Held mid-computation until the test creates this file (writes made meanwhile).
    hold = os.environ.get("FAULTS_HOLD_UNTIL")
    while hold and not os.path.exists(hold):
        time.sleep(0.1)
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
