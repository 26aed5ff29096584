"""What-if patches: recommended app changes, applied at run time to the bench's own processes only.

They exist to put numbers on the recommendations in docs/performance.md; the app as shipped is
what `python -m bench.transfers` measures unless `--whatif` names some of these. Each is small and
keeps the ledger's behaviour (check_ledger runs after every phase):

- `save_sql`: ledger.services._save writes the locked accounts' new balances with one
  `UPDATE … FROM (VALUES …)` instead of QuerySet.bulk_update's CASE/WHEN per field.
- `claim_sql`: ledger.idempotency claims the key with one autocommit
  `INSERT … ON CONFLICT DO NOTHING` instead of QuerySet.bulk_create(ignore_conflicts=True), which
  wraps it in BEGIN/COMMIT (three round trips) and builds it through the ORM.
- `server_binding`: psycopg server-side binding with prepared statements
  (DATABASES OPTIONS server_side_binding=True, prepare_threshold=5).
- `no_health_check`: CONN_HEALTH_CHECKS off (no `SELECT 1` at the start of each request).
"""

from __future__ import annotations

import os

CHOICES = ("save_sql", "claim_sql", "server_binding", "no_health_check")
ENV = "LEDGERPAY_BENCH_WHATIF"


def enabled() -> list[str]:
    return [name for name in os.environ.get(ENV, "").split(",") if name]


def _save_sql(accounts, entries) -> None:
    from django.db import connection

    from ledger.models import Account, Entry

    if entries:
        Entry.objects.bulk_create(entries)
    rows = list(accounts.values())
    values = ", ".join(["(%s::uuid, %s::bigint, %s::bigint, %s::bigint, %s::bigint)"] * len(rows))
    params = [
        value
        for account in rows
        for value in (
            account.pk,
            account.balance,
            account.pending_debits,
            account.pending_credits,
            account.version,
        )
    ]
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS a SET balance = v.balance, pending_debits = v.pending_debits, "
            "pending_credits = v.pending_credits, version = v.version "
            f"FROM (VALUES {values}) AS v(id, balance, pending_debits, pending_credits, version) "
            "WHERE a.id = v.id",
            params,
        )


def parse(text: str) -> tuple[str, ...]:
    """`save_sql,claim_sql` → ("save_sql", "claim_sql"); argparse type of --whatif."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in CHOICES]
    if unknown or not names:
        raise ValueError(f"unknown what-if {', '.join(unknown) or text!r}; choose from {', '.join(CHOICES)}")
    return names


def _claim_sql_bulk_create():
    """A replacement for IdempotencyKey.objects.bulk_create that claims a single key in one statement."""
    from django.db import connection

    from ledger.models import IdempotencyKey

    original = IdempotencyKey.objects.bulk_create
    table = IdempotencyKey._meta.db_table

    def bulk_create(objs, *args, ignore_conflicts=False, **kwargs):
        if not ignore_conflicts or len(objs) != 1 or not connection.get_autocommit():
            return original(objs, *args, ignore_conflicts=ignore_conflicts, **kwargs)
        key = objs[0]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (user_id, key, fingerprint, request_method, request_path, status, "
                "response_content_type, created_at, expires_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, '', now(), %s) ON CONFLICT DO NOTHING",
                [
                    key.user_id,
                    key.key,
                    key.fingerprint,
                    key.request_method,
                    key.request_path,
                    key.status,
                    key.expires_at,
                ],
            )
        return objs

    return bulk_create


CODE_WHATIFS = ("save_sql", "claim_sql")


class CodePatches:
    """The code-level what-ifs among `names`, switchable on and off (for A/B runs in one process)."""

    def __init__(self, names):
        from ledger import services
        from ledger.models import IdempotencyKey

        self._patches = []  # (object, attribute, original, replacement)
        if "save_sql" in names:
            self._patches.append((services, "_save", services._save, _save_sql))
        if "claim_sql" in names:
            manager = IdempotencyKey.objects  # the same manager instance ledger.idempotency uses
            self._patches.append((manager, "bulk_create", manager.bulk_create, _claim_sql_bulk_create()))

    def on(self) -> None:
        for target, attribute, _, replacement in self._patches:
            setattr(target, attribute, replacement)

    def off(self) -> None:
        for target, attribute, original, _ in self._patches:
            setattr(target, attribute, original)


def apply_settings() -> None:
    """Before django.setup(): settings-level what-ifs."""
    from django.conf import settings

    names = enabled()
    database = settings.DATABASES["default"]
    if "server_binding" in names:
        database["OPTIONS"] = {
            **database.get("OPTIONS", {}),
            "server_side_binding": True,
            "prepare_threshold": 5,
        }
    if "no_health_check" in names:
        database["CONN_HEALTH_CHECKS"] = False


def apply_code() -> None:
    """After django.setup(): code-level what-ifs."""
    CodePatches(enabled()).on()
