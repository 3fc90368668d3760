"""The alerts page of every engagement the user sees, and acknowledging an alert."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from relationships.models import Engagement
from relationships.pages import id_param, query_without_page
from relationships.tenancy import engagement_with_access
from scorecards import services
from scorecards.models import Alert
from scorecards.views.portfolio import PAGE_SIZE

ALERT_STATES = {
    "open": ("Open", Q(resolved_at__isnull=True)),
    "unacknowledged": ("Open, not acknowledged", Q(resolved_at__isnull=True, acknowledged_at=None)),
    "resolved": ("Resolved", Q(resolved_at__isnull=False)),
    "all": ("All", Q()),
}


@login_required
@require_GET
def alert_list(request):
    visible = Engagement.objects.visible_to(request.user)
    alerts = Alert.objects.filter(engagement__in=visible).select_related(
        "engagement", "acknowledged_by"
    )
    filters = {
        "state": request.GET.get("state", "open"),
        "kind": request.GET.get("kind", ""),
        "engagement": request.GET.get("engagement", ""),
    }
    if filters["state"] not in ALERT_STATES:
        filters["state"] = "open"
    alerts = alerts.filter(ALERT_STATES[filters["state"]][1])
    if filters["kind"] in Alert.Kind.values:
        alerts = alerts.filter(kind=filters["kind"])
    engagement_id = id_param(filters["engagement"])
    if engagement_id is not None:
        alerts = alerts.filter(engagement_id=engagement_id)
    alerts = alerts.order_by(F("resolved_at").desc(nulls_first=True), "-raised_at", "-pk")
    page = Paginator(alerts, PAGE_SIZE * 2).get_page(request.GET.get("page"))
    writable = set(
        Engagement.objects.writable_by(request.user)
        .filter(pk__in={alert.engagement_id for alert in page})
        .values_list("pk", flat=True)
    )
    for alert in page:
        alert.can_acknowledge = (
            alert.engagement_id in writable and alert.is_open and alert.acknowledged_at is None
        )
    return render(
        request,
        "dashboard/alerts.html",
        {
            "page": page,
            "filters": filters,
            "states": [(key, label) for key, (label, _) in ALERT_STATES.items()],
            "kinds": Alert.Kind.choices,
            "engagements": visible.only("pk", "name"),
            "query": query_without_page(request),
        },
    )


@login_required
@require_POST
def alert_acknowledge(request, pk):
    """Acknowledge from the alerts page or the engagement page; back to where it was posted."""
    alert = get_object_or_404(
        Alert.objects.filter(engagement__in=Engagement.objects.visible_to(request.user)), pk=pk
    )
    engagement, _ = engagement_with_access(request.user, alert.engagement_id, action="write")
    try:
        services.alert_acknowledge(alert=alert, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Alert acknowledged: {alert.message}")
    return redirect(_safe_next(request, f"{engagement.get_absolute_url()}#alerts"))


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
