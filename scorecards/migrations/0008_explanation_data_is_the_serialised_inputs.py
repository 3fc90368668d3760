"""Stored explanations' data becomes the serialised inputs (scorecards.inputs.serialise).

The old data held everything the new inputs carry: the contact span's first day and the
count of days with a check-in (not the dates, nor the engagement's start), the SLAs,
ratios, goals and survey counts in the same order, the configuration and the previous
score; the engagement's name is the explanation's. What it held besides (the period,
the span's end and length, the model version) is elsewhere on the scorecard. Each
digest becomes the digest of the converted inputs, which is what a computation over
unchanged inputs produces: the next run writes nothing, and frozen scorecards are not
flagged "changed since sign-off".

The conversion and the digest are frozen copies: this migration must keep working
when the app's code changes later.
"""

import hashlib
from datetime import date

import orjson
from django.db import migrations

BATCH = 1000
CONTACT = ("span_start", "cadence_days", "held", "last_checkin_on")
DIMENSIONS = ("reliance", "transparency", "dedication", "alignment", "sentiment")


def data_from_old(explanation: dict) -> dict:
    """The new data from an old explanation (whose data has a "period")."""
    old = explanation["data"]
    return {
        "engagement": explanation["engagement"],
        "as_of": old["as_of"],
        "contact": {name: old["contact"][name] for name in CONTACT},
        **{name: old[name] for name in DIMENSIONS},
        "config": old["config"],
        "previous": old["previous"],
    }


def digest_of(data: dict) -> str:
    """scorecards.compute.inputs_digest: the data without the previous score, keys sorted."""
    fingerprint = {**data, "previous": None}
    return hashlib.sha256(orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS)).hexdigest()


def data_to_old(scorecard) -> dict:
    """The old data back, for migrating backwards (the old digests cannot be rebuilt)."""
    data = scorecard.explanation["data"]
    contact = data["contact"]
    span_days = (scorecard.as_of - date.fromisoformat(contact["span_start"])).days + 1
    return {
        "model_version": scorecard.explanation["model_version"],
        "period": {
            "kind": scorecard.period_kind,
            "start": scorecard.period_start.isoformat(),
            "end": scorecard.period_end.isoformat(),
        },
        "as_of": data["as_of"],
        "config": data["config"],
        "previous": data["previous"],
        "contact": {
            **contact,
            "span_end": data["as_of"],
            "span_days": span_days,
        },
        **{name: data[name] for name in DIMENSIONS},
    }


def _rewrite(apps, convert, fields):
    Scorecard = apps.get_model("scorecards", "Scorecard")
    rows = Scorecard.objects.only(
        "id", "as_of", "period_kind", "period_start", "period_end", "explanation", "inputs_digest"
    ).order_by("pk")
    batch = []
    for scorecard in rows.iterator(chunk_size=BATCH):
        if convert(scorecard):
            batch.append(scorecard)
        if len(batch) == BATCH:
            Scorecard.objects.bulk_update(batch, fields)
            batch = []
    Scorecard.objects.bulk_update(batch, fields)


def forwards(apps, schema_editor):
    def convert(scorecard) -> bool:
        data = scorecard.explanation.get("data")
        if not data or "period" not in data:
            return False  # no explanation, or already converted
        scorecard.explanation["data"] = data_from_old(scorecard.explanation)
        scorecard.inputs_digest = digest_of(scorecard.explanation["data"])
        return True

    _rewrite(apps, convert, ["explanation", "inputs_digest"])


def backwards(apps, schema_editor):
    def convert(scorecard) -> bool:
        data = scorecard.explanation.get("data")
        if not data or "period" in data:
            return False
        scorecard.explanation["data"] = data_to_old(scorecard)
        return True

    _rewrite(apps, convert, ["explanation"])


class Migration(migrations.Migration):
    dependencies = [
        ("scorecards", "0007_scoring_config_moves_to_relationships"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
