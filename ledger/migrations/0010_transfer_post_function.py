"""A single posting in one round trip: ledger_transfer_post() (SQL in sql/)."""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_balanced_check_generic_plan")]

    operations = [
        migrations.RunSQL(
            sql=(SQL_DIR / "0010_transfer_post_function.sql").read_text(),
            reverse_sql=(SQL_DIR / "0010_transfer_post_function.reverse.sql").read_text(),
        )
    ]
