"""Stored explanations keep nothing about a side's survey answers below the threshold.

Before, an explanation's data kept every side's respondents and answer total, and its
text said "1 provider response(s): fewer than the 3 needed", though only sides at the
threshold counted. Now the data holds only the sides whose figures were published, plus
whether the period was closed ("final": true, as every stored scorecard was treated) and
the survey threshold in force; one sentence covers none and too few.
The configuration gains the grace days (the default, 5). Each digest is rebuilt the way
scorecards.compute.inputs_digest makes it, so unchanged inputs still compute to the
stored digest and frozen scorecards are not flagged "changed since sign-off".

Frozen copies of the conversion and the digest: this migration must keep working when
the app's code changes later. Backwards, the removed figures cannot come back.
"""

import hashlib
import re

import orjson
from django.db import migrations

BATCH = 1000
GRACE_DAYS = 5
OLD_SENTENCES = (
    re.compile(r"^\d+ (client|provider) response\(s\): fewer than the \d+ needed to count"),
    re.compile(r"^No (client|provider) survey responses this period\.$"),
)


def digest_of(data: dict) -> str:
    """scorecards.compute.inputs_digest: the data without the previous score, keys sorted."""
    fingerprint = {**data, "previous": None}
    return hashlib.sha256(orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS)).hexdigest()


def sentence(line: str, threshold: int) -> str:
    for pattern in OLD_SENTENCES:
        match = pattern.match(line)
        if match:
            return f"Fewer than {threshold} {match[1]} responses: not shown (anonymity threshold)."
    return line


def convert(explanation: dict) -> bool:
    """Rewrite one explanation in place; False if it has no data or is converted already."""
    data = explanation.get("data")
    if not data or "final" in data:
        return False
    threshold = data["config"]["survey_threshold"]
    data["sentiment"] = {
        side: pulse
        for side, pulse in data["sentiment"].items()
        if pulse["respondents"] >= threshold
    }
    data["final"] = True
    data["survey_threshold"] = threshold
    data["config"].setdefault("grace_days", GRACE_DAYS)
    sentiment = explanation.get("dimensions", {}).get("sentiment")
    if sentiment:
        sentiment["text"] = [sentence(line, threshold) for line in sentiment["text"]]
    return True


def forwards(apps, schema_editor):
    Scorecard = apps.get_model("scorecards", "Scorecard")
    rows = Scorecard.objects.only("id", "explanation", "inputs_digest").order_by("pk")
    batch = []
    for scorecard in rows.iterator(chunk_size=BATCH):
        if convert(scorecard.explanation):
            scorecard.inputs_digest = digest_of(scorecard.explanation["data"])
            batch.append(scorecard)
        if len(batch) == BATCH:
            Scorecard.objects.bulk_update(batch, ["explanation", "inputs_digest"])
            batch = []
    Scorecard.objects.bulk_update(batch, ["explanation", "inputs_digest"])


class Migration(migrations.Migration):
    dependencies = [
        ("scorecards", "0008_explanation_data_is_the_serialised_inputs"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
