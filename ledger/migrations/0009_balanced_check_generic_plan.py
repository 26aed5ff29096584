"""The balanced-transfer check keeps one generic plan per session instead of planning each call.

It runs three or four times per transfer at COMMIT. PL/pgSQL chose custom plans for its two queries,
so each call planned them again: 0.06 ms of planning per call, more than the 0.05 ms the queries
take to run (pg_stat_statements, docs/performance.md). Both queries are primary-key and index
lookups (0008 turned sequential scans off), so the generic plan is the same plan, made once.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_balanced_trigger_index_lookups")]

    operations = [
        migrations.RunSQL(
            sql="ALTER FUNCTION ledger_transfer_check_balanced() SET plan_cache_mode = force_generic_plan",
            reverse_sql="ALTER FUNCTION ledger_transfer_check_balanced() RESET plan_cache_mode",
        )
    ]
