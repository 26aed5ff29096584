"""The payment timeline is append-only, enforced by a PostgreSQL trigger (SQL in sql/)."""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent / "sql"


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial"), ("ledger", "0002_ledger_triggers")]

    operations = [
        migrations.RunSQL(
            sql=(SQL_DIR / "0002_payment_event_append_only.sql").read_text(),
            reverse_sql=(SQL_DIR / "0002_payment_event_append_only.reverse.sql").read_text(),
        )
    ]
