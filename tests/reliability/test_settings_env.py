"""Settings read from the environment, checked in fresh interpreters."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s" * 50
# Only what these tests set reaches the child: the developer's own settings stay out.
OURS = {
    "DEBUG",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "ALLOWED_HOSTS",
    "DATABASE_CONN_MAX_AGE",
}
PRINT_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST"),
    "PORT": db.get("PORT"), "USER": db.get("USER"), "CONN_MAX_AGE": db["CONN_MAX_AGE"],
    "EAGER": settings.CELERY_TASK_ALWAYS_EAGER, "BROKER": settings.CELERY_BROKER_URL,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
}))
"""


def start(**env) -> subprocess.CompletedProcess:
    child_env = {key: value for key, value in os.environ.items() if key not in OURS}
    child_env.update(DJANGO_SETTINGS_MODULE="accord.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def loaded(**env) -> dict:
    result = start(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_nothing_set_accord_runs_in_development_on_sqlite_with_eager_tasks():
    settings = loaded()
    assert settings["DEBUG"] is True
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"].endswith("db.sqlite3")
    assert settings["EAGER"] is True


def test_debug_off_without_a_secret_key_refuses_to_start():
    result = start(DEBUG="false", FIELD_ENCRYPTION_KEY="k")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_off_with_a_short_secret_key_refuses_to_start():
    result = start(DEBUG="false", SECRET_KEY="short", FIELD_ENCRYPTION_KEY="k")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_off_with_real_secrets_starts_in_production_mode():
    settings = loaded(DEBUG="false", SECRET_KEY=SECRET, FIELD_ENCRYPTION_KEY="k")
    assert settings["DEBUG"] is False
    assert settings["ALLOWED_HOSTS"] == []


@pytest.mark.parametrize(("name", "value"), [("DEBUG", "maybe"), ("DATABASE_CONN_MAX_AGE", "ten")])
def test_an_unreadable_value_fails_loudly(name, value):
    result = start(**{name: value})
    assert result.returncode != 0
    assert f"{name} must be" in result.stderr
    assert repr(value) in result.stderr


def test_database_url_is_parsed():
    settings = loaded(
        DATABASE_URL="postgres://accord:pw@db.example:6543/accord_prod", DATABASE_CONN_MAX_AGE="5"
    )
    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert (settings["HOST"], settings["PORT"], settings["USER"], settings["NAME"]) == (
        "db.example",
        6543,
        "accord",
        "accord_prod",
    )
    assert settings["CONN_MAX_AGE"] == 5


def test_a_broker_url_turns_eager_tasks_off():
    settings = loaded(CELERY_BROKER_URL="redis://127.0.0.1:6379/9")
    assert settings["EAGER"] is False
    assert settings["BROKER"] == "redis://127.0.0.1:6379/9"


def test_allowed_hosts_is_a_comma_separated_list():
    settings = loaded(ALLOWED_HOSTS="accord.example, www.accord.example,")
    assert settings["ALLOWED_HOSTS"] == ["accord.example", "www.accord.example"]
