# Its own migration: on PostgreSQL the constraint cannot be added in the transaction
# that filled the keys (0009) while that transaction has pending trigger events.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('relationships', '0010_organization_name_key'),
    ]

    operations = [
        migrations.AlterField(
            model_name='organization',
            name='name_key',
            field=models.CharField(blank=True, editable=False, max_length=600, unique=True),
        ),
    ]
