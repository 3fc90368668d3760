"""The engagement's scorecard history as a CSV download."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET

from relationships.tenancy import engagement_with_access
from scorecards.exports import scorecards_csv


@login_required
@require_GET
def scorecard_export(request, pk):
    """Every scorecard of the engagement, by period kind, oldest period first."""
    engagement, _ = engagement_with_access(request.user, pk)
    return scorecards_csv(engagement, engagement.scorecards.order_by("period_kind", "period_start"))
