"""The scorecard history as CSV: one format for the dashboard's and the API's export."""

import csv

from django.http import HttpResponse

from relationships.scoring_config import DIMENSIONS

COLUMNS = [
    "period_kind",
    "period_start",
    "period_end",
    "as_of",
    "status",  # provisional (the period has not closed) or final
    "band",
    "overall",
    "coverage",
    *DIMENSIONS,
    "client_score",
    "provider_score",
    "perception_gap",
    "trend",
    "model_version",
    "computed_at",
    "frozen_at",
    "changed_since_signoff_at",
]


def scorecards_csv(engagement, scorecards) -> HttpResponse:
    """A CSV download of `scorecards` (a queryset, in the order to write), a row per scorecard."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="accord-engagement-{engagement.pk}-scorecards.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    for row in scorecards.values_list(*COLUMNS).iterator(chunk_size=500):
        writer.writerow("" if value is None else value for value in row)
    return response
