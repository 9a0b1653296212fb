from django.db import migrations


class Migration(migrations.Migration):
    """The free-text drug column becomes `drug_name`; `drug` becomes the dictionary link (0005)."""

    dependencies = [
        ("infusions", "0003_infusion_administered_time"),
    ]

    operations = [
        migrations.RenameField(model_name="medicationcourse", old_name="drug", new_name="drug_name"),
    ]
