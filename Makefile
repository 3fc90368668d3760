# The README's two commands. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ADDRESS ?= 127.0.0.1:8000

.PHONY: run test

$(PY):
	$(PYTHON) -m venv $(VENV)

# Development server on the embedded default (SQLite, eager tasks) with demo data.
run: $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(ADDRESS)

# The test suite; DATABASE_URL, CELERY_BROKER_URL and REQUIRE_SERVICES pass through from the environment.
test: $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pytest $(PYTEST_ARGS)
