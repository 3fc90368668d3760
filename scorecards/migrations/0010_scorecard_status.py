"""Scorecards are provisional or final (PRODUCT.md §6), and only final ones headline.

Existing scorecards of periods that may not have closed yet become provisional: a
period ends, then stays open for the grace days (5 for every engagement at this point),
and time zones differ by up to a day, so any period that ended fewer than 7 days ago
counts as not closed. The next run recomputes the current and previous periods with
each engagement's own time zone and grace days and puts the status right.

Alerts that only closed periods raise (band_drop, score_drop, perception_gap,
side_reliance_low) and that are open on a now provisional scorecard are resolved here;
contact_gap stays, as it is live. The headline rows (LatestScorecard) that pointed at a
now provisional scorecard move to the newest final one, or go.

Signatures and disputes given on a now provisional scorecard are withdrawn: marked stale
(the history keeps who signed and when), and a period frozen by them is no longer frozen.
The joint review opens again when the period closes and its final scorecard is computed.
"""

from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone

UNSURE_DAYS = 5 + 1 + 1  # grace days, the day the period closes on, a time zone's day
CLOSED_PERIOD_ALERTS = ("band_drop", "score_drop", "perception_gap", "side_reliance_low")
LATEST_FIELDS = (
    "period_start",
    "band",
    "overall",
    "client_score",
    "provider_score",
    "perception_gap",
    "trend",
)


def forwards(apps, schema_editor):
    Scorecard = apps.get_model("scorecards", "Scorecard")
    LatestScorecard = apps.get_model("scorecards", "LatestScorecard")
    Alert = apps.get_model("scorecards", "Alert")
    ScorecardReview = apps.get_model("scorecards", "ScorecardReview")
    now = timezone.now()
    recent = Scorecard.objects.filter(period_end__gte=now.date() - timedelta(days=UNSURE_DAYS))
    recent.update(status="provisional", frozen_at=None)
    ScorecardReview.objects.filter(scorecard__in=recent, stale_at__isnull=True).update(stale_at=now)
    for engagement_id, kind, start in recent.values_list(
        "engagement_id", "period_kind", "period_start"
    ):
        Alert.objects.filter(
            engagement_id=engagement_id,
            period_kind=kind,
            period_start=start,
            kind__in=CLOSED_PERIOD_ALERTS,
            resolved_at__isnull=True,
        ).update(resolved_at=now)
        row = LatestScorecard.objects.filter(
            engagement_id=engagement_id, period_kind=kind, period_start=start
        ).first()
        if row is None:
            continue
        final = (
            Scorecard.objects.filter(engagement_id=engagement_id, period_kind=kind, status="final")
            .order_by("-period_start")
            .first()
        )
        if final is None:
            row.delete()
        else:
            for name in LATEST_FIELDS:
                setattr(row, name, getattr(final, name))
            row.save()


class Migration(migrations.Migration):
    dependencies = [
        ("scorecards", "0009_survey_figures_below_threshold_are_not_kept"),
    ]

    operations = [
        migrations.AddField(
            model_name="scorecard",
            name="status",
            field=models.CharField(
                choices=[("provisional", "Provisional"), ("final", "Final")],
                default="final",
                max_length=11,
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
