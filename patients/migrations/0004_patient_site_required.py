# Every row has its site now (0003_patient_site_care_team); the column becomes required. A migration of its own:
# PostgreSQL will not alter a table with the data step's pending trigger events in the same transaction.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0003_patient_site_care_team'),
    ]

    operations = [
        migrations.AlterField(
            model_name='patient',
            name='site',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='patients', to='accounts.site'),
        ),
    ]
