# Every row has its site now (0008_flag_site); the column becomes required. A migration of its own:
# PostgreSQL will not alter a table with the data step's pending trigger events in the same transaction.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('risk', '0008_flag_site'),
    ]

    operations = [
        migrations.AlterField(
            model_name='reviewflag',
            name='site',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.site'),
        ),
    ]
