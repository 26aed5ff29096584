"""The balanced-transfer trigger reads by index only, whatever the statistics (SQL in sql/)."""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_merge_external_transfers_and_adjustments")]

    operations = [
        migrations.RunSQL(
            sql=(SQL_DIR / "0008_balanced_trigger_index_lookups.sql").read_text(),
            reverse_sql=(SQL_DIR / "0008_balanced_trigger_index_lookups.reverse.sql").read_text(),
        )
    ]
