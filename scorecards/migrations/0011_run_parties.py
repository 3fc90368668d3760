"""The organisations that were a party to the engagements a run of many engagements
covered, so that their members may poll it (scorecards.models.ScorecardRun).

Existing runs of many (periodic, command) get theirs from their chunks' engagement ids;
engagements deleted since are left out.
"""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 5000  # engagement ids per query (SQLite takes 32,766 parameters at most)


def add_parties_of_existing_runs(apps, schema_editor):
    ScorecardRun = apps.get_model("scorecards", "ScorecardRun")
    ScorecardRunChunk = apps.get_model("scorecards", "ScorecardRunChunk")
    ScorecardRunParty = apps.get_model("scorecards", "ScorecardRunParty")
    Engagement = apps.get_model("relationships", "Engagement")
    runs = ScorecardRun.objects.filter(engagement__isnull=True).values_list("pk", flat=True)
    for run_id in runs.iterator():
        ids = sorted(
            {
                pk
                for chunk_ids in ScorecardRunChunk.objects.filter(run_id=run_id).values_list(
                    "engagement_ids", flat=True
                )
                for pk in chunk_ids
            }
        )
        parties = set()
        for i in range(0, len(ids), BATCH):
            for pair in Engagement.objects.filter(pk__in=ids[i : i + BATCH]).values_list(
                "client_id", "provider_id"
            ):
                parties.update(pair)
        ScorecardRunParty.objects.bulk_create(
            [ScorecardRunParty(run_id=run_id, organization_id=pk) for pk in sorted(parties)]
        )


class Migration(migrations.Migration):

    dependencies = [
        ('relationships', '0009_scoring_config_grace_days'),
        ('scorecards', '0010_scorecard_status'),
    ]

    operations = [
        migrations.CreateModel(
            name='ScorecardRunParty',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='relationships.organization')),
                ('run', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='parties', to='scorecards.scorecardrun')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('run', 'organization'), name='one_party_per_run')],
            },
        ),
        migrations.RunPython(add_parties_of_existing_runs, migrations.RunPython.noop),
    ]
