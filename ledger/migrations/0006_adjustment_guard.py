"""A decided adjustment is final: a trigger refuses any other change (SQL in sql/)."""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_adjustment")]

    operations = [
        migrations.RunSQL(
            sql=(SQL_DIR / "0006_adjustment_guard.sql").read_text(),
            reverse_sql=(SQL_DIR / "0006_adjustment_guard.reverse.sql").read_text(),
        )
    ]
