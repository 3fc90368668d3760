# The README's two commands. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ADDRESS ?= 127.0.0.1:8000
# Links made outside a request (webhook messages) point at the address served; links in
# e-mails sent while answering a request follow that request's address (core/links.py).
SITE_URL ?= http://$(ADDRESS)

.PHONY: run test

$(PY):
	$(PYTHON) -m venv $(VENV)

# Development server on the embedded default (SQLite, eager tasks) with demo data.
run: $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) manage.py migrate --noinput
	SITE_URL=$(SITE_URL) $(PY) manage.py seed_demo
	SITE_URL=$(SITE_URL) $(PY) manage.py runserver $(ADDRESS)

# The test suite; DATABASE_URL, CELERY_BROKER_URL and REQUIRE_SERVICES pass through from the environment.
test: $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pytest $(PYTEST_ARGS)
