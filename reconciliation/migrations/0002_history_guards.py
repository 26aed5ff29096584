"""Append-only reports and lines, write-once matches, closed discrepancies and finished runs stay so:
PostgreSQL triggers (SQL in sql/), reusing the ledger's reject_history_change()."""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("reconciliation", "0001_initial"), ("ledger", "0002_ledger_triggers")]

    operations = [
        migrations.RunSQL(
            sql=(SQL_DIR / "0002_history_guards.sql").read_text(),
            reverse_sql=(SQL_DIR / "0002_history_guards.reverse.sql").read_text(),
        )
    ]
