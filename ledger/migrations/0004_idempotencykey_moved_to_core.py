# IdempotencyKey now belongs to the core app (core.0001_initial): removed from the ledger's state
# only; the table ledger_idempotencykey and its rows stay as they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_transfer_ledger_transfer_one_posting_per_cause"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="IdempotencyKey")],
        ),
    ]
