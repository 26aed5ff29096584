"""Append-only history and balanced transfers, enforced by PostgreSQL triggers (SQL in sql/)."""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=(SQL_DIR / "0002_ledger_triggers.sql").read_text(),
            reverse_sql=(SQL_DIR / "0002_ledger_triggers.reverse.sql").read_text(),
        )
    ]
