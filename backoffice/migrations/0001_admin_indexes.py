"""The indexes the back office's lists, filters and searches use (SQL in sql/)."""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent / "sql"


class Migration(migrations.Migration):
    initial = True

    dependencies = [("ledger", "0002_ledger_triggers"), ("payments", "0002_payment_event_append_only")]

    operations = [
        migrations.RunSQL(
            sql=(SQL_DIR / "0001_admin_indexes.sql").read_text(),
            reverse_sql=(SQL_DIR / "0001_admin_indexes.reverse.sql").read_text(),
        )
    ]
