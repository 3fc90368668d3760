"""docker-compose.yml: no Docker engine runs here, so the file itself is checked."""

import pytest
import yaml

from tests.reliability.settings_source import ROOT, settings_environment_names

APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_of(service) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_the_five_services_exist(compose):
    assert set(compose["services"]) == {"postgres", "redis", "web", "worker", "beat"}


def test_data_services_use_pinned_majors_volumes_and_healthchecks(compose):
    postgres, redis = compose["services"]["postgres"], compose["services"]["redis"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in str(postgres["healthcheck"]["test"])
    assert redis["image"] == "redis:7"
    assert "ping" in redis["healthcheck"]["test"]
    for service in (postgres, redis):
        volume = service["volumes"][0].split(":")[0]
        assert volume in compose["volumes"]


def test_app_services_run_the_right_commands(compose):
    services = compose["services"]
    assert "python manage.py migrate" in command_of(services["web"])
    assert "gunicorn accord.wsgi" in command_of(services["web"])
    assert command_of(services["worker"]).startswith("celery -A accord worker")
    assert command_of(services["beat"]).startswith("celery -A accord beat")
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "/healthz" in str(services["web"]["healthcheck"]["test"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_dependencies(compose, name):
    depends_on = compose["services"][name]["depends_on"]
    assert "redis" in depends_on
    assert {entry["condition"] for entry in depends_on.values()} == {"service_healthy"}
    if name != "web":
        # The web service migrates before it reports healthy.
        assert "web" in depends_on


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_variable_an_app_service_sets_is_read_by_the_settings(compose, name):
    environment = compose["services"][name]["environment"]
    read = settings_environment_names()
    assert set(environment) <= read, sorted(set(environment) - read)


def test_the_app_services_set_every_variable_the_settings_read(compose):
    environment = compose["services"]["web"]["environment"]
    # EMAIL_BACKEND follows EMAIL_HOST; the image has no use for overriding it.
    assert settings_environment_names() - set(environment) <= {"EMAIL_BACKEND"}
