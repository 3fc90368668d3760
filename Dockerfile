# Accord web, worker and beat image: gunicorn serves the app, WhiteNoise the static files.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 accord
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=accord:accord . .
# Settings refuse to load without real secrets when DEBUG is off; collectstatic needs neither.
RUN DEBUG=false \
    SECRET_KEY=collectstatic-only-dummy-key-not-used-at-runtime-000 \
    FIELD_ENCRYPTION_KEY=collectstatic-only \
    python manage.py collectstatic --noinput \
    && chown -R accord:accord /app/staticfiles \
    && mkdir -p /app/media && chown accord:accord /app/media  # a new volume takes this owner

USER accord
EXPOSE 8000
CMD ["gunicorn", "accord.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
