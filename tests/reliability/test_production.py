"""Production settings, proven against a real gunicorn: deploy checks, headers, database down."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "production-secret-for-tests-only-" + "z" * 20,
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "127.0.0.1,accord.example.com",
}


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(PRODUCTION_ENV)
    env.update(extra)
    return env


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_deploy_checks_pass_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_real_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory):
    """gunicorn with DEBUG off whose database (port 9 on loopback) cannot be reached."""
    env = production_env(
        DATABASE_URL="postgres://postgres@127.0.0.1:9/accord",
        STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
        # The manifest is what pages need; gzip copies only cost minutes here.
        STATICFILES_COMPRESS="false",
    )
    collected = manage("collectstatic", "--noinput", "-v0", env=env)
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "accord.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/healthz", timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


HTTPS = {"X-Forwarded-Proto": "https"}
SESSION = {"sessionid": "a" * 32}


def test_healthz_reports_the_database_down(server_without_database):
    response = requests.get(server_without_database + "/healthz", headers=HTTPS, timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is False
    assert body["last_successful_scorecard_run"] is None


@pytest.mark.parametrize("path", ["/", "/alerts/", "/admin/"])
def test_pages_answer_a_plain_503_without_the_database(server_without_database, path):
    response = requests.get(
        server_without_database + path,
        headers=HTTPS,
        cookies=SESSION,
        timeout=10,
        allow_redirects=False,
    )
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "Traceback" not in response.text and "OperationalError" not in response.text


@pytest.mark.parametrize(
    ("path", "auth"),
    [
        ("/api/v1/engagements/", {"cookies": SESSION}),
        ("/api/v1/scorecards/", {"headers": {"Authorization": "Token " + "b" * 64}}),
    ],
)
def test_api_answers_a_json_503_without_the_database(server_without_database, path, auth):
    headers = {**HTTPS, **auth.get("headers", {})}
    response = requests.get(
        server_without_database + path, headers=headers, cookies=auth.get("cookies"), timeout=10
    )
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


def test_production_sends_security_headers(server_without_database):
    response = requests.get(server_without_database + "/accounts/login/", headers=HTTPS, timeout=10)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
    assert (
        "Secure" in response.headers["Set-Cookie"] and "csrftoken" in response.headers["Set-Cookie"]
    )


def test_production_redirects_plain_http_to_https(server_without_database):
    response = requests.get(
        server_without_database + "/accounts/login/", timeout=10, allow_redirects=False
    )
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://")
