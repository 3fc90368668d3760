"""Organisation names become unique after normalisation (relationships.names).

Each organisation gets its name's key. Organisations whose names already looked alike
are reported, one line per group; the oldest keeps the plain key and the others a key
marked with their id, so the unique constraint (0010) holds and nothing is renamed
behind their members' backs. The system check relationships.W001 keeps listing them
until they are renamed.
"""

from django.db import migrations, models

from relationships.names import (
    LOOK_ALIKE_MARK,
    describe_look_alikes,
    look_alike_groups,
    organization_name_key,
)


def fill_name_keys(apps, schema_editor):
    Organization = apps.get_model("relationships", "Organization")
    rows = [
        (pk, name, organization_name_key(name))
        for pk, name in Organization.objects.order_by("created_at", "id").values_list("id", "name")
    ]
    for pk, _name, key in rows:
        Organization.objects.filter(pk=pk).update(name_key=key)
    for group in look_alike_groups(rows):
        print(f"\n  {describe_look_alikes(group)}; rename all but #{group[0][0]}.")
        for pk, _name in group[1:]:
            key = Organization.objects.get(pk=pk).name_key
            Organization.objects.filter(pk=pk).update(name_key=f"{key}{LOOK_ALIKE_MARK}{pk}")


class Migration(migrations.Migration):

    dependencies = [
        ('relationships', '0009_scoring_config_grace_days'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalorganization',
            name='name_key',
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=600),
        ),
        migrations.AddField(
            model_name='organization',
            name='name_key',
            field=models.CharField(blank=True, editable=False, max_length=600),
        ),
        migrations.AlterField(
            model_name='historicalorganization',
            name='name',
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name='organization',
            name='name',
            field=models.CharField(max_length=200),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
    ]
