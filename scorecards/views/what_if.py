"""The what-if page: other weights and band limits tried on an engagement's past periods."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_GET

from relationships.forms import add_service_errors
from relationships.scoring_config import DIMENSIONS
from relationships.tenancy import engagement_with_access
from scorecards.backtest import CLOSED_PERIODS, scoring_backtest, whatif_config
from scorecards.forms import WhatIfForm, weight_field

# whatif_config names whole groups; their errors go beside the group's first field.
ERROR_FIELDS = {"weights": weight_field(DIMENSIONS[0]), "band_limits": "watch_at"}


@login_required
@require_GET
def what_if(request, pk):
    """Any member: a form prefilled with the configuration in force; submitted (GET), the
    back-test under the values typed. Nothing is written."""
    engagement, _ = engagement_with_access(request.user, pk)
    form = WhatIfForm(request.GET or None, engagement=engagement)
    backtest = None
    if form.is_valid():
        try:
            config = whatif_config(engagement=engagement, **form.scoring_arguments())
        except ValidationError as exc:
            add_service_errors(form, exc, field_map=ERROR_FIELDS)
        else:
            backtest = scoring_backtest(engagement=engagement, config=config)
    context = {
        "engagement": engagement,
        "form": form,
        "backtest": backtest,
        "closed_periods": CLOSED_PERIODS,
    }
    return render(request, "dashboard/what_if.html", context, status=400 if form.errors else 200)
