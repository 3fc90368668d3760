"""`/healthz`: can Accord reach its database and broker, and when did scorecards last compute?"""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # any failure to reach it is "down", reported, not raised
        return {"ok": False, "error": exc.__class__.__name__}


def _broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "eager"}
    from accord.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}


def _last_run(database_ok: bool) -> dict | None:
    if not database_ok:
        return None
    from scorecards.models import ScorecardRun

    run = (
        ScorecardRun.objects.filter(status=ScorecardRun.Status.SUCCEEDED)
        .order_by("-finished_at")
        .values("id", "finished_at", "trigger")
        .first()
    )
    if run is None:
        return {"id": None, "finished_at": None, "age_seconds": None}
    age = (timezone.now() - run["finished_at"]).total_seconds()
    return {
        "id": run["id"],
        "trigger": run["trigger"],
        "finished_at": run["finished_at"].isoformat(),
        "age_seconds": round(age),
    }


@never_cache
def healthz(request):
    database = _database()
    broker = _broker()
    healthy = database["ok"] and broker["ok"]
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "database": database,
            "broker": broker,
            "last_successful_scorecard_run": _last_run(database["ok"]),
        },
        status=200 if healthy else 503,
    )
