# Joins two branches of the ledger's history: the opt-in for external transfers (0005) and the four-eyes
# adjustments (0005_adjustment, 0006). Nothing to do but order them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_account_accepts_external_transfers"),
        ("ledger", "0006_adjustment_guard"),
    ]

    operations = []
