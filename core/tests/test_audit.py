"""The audit log: append-only, hash-chained, and a tamper found at the first broken row."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from accounts.tests.factories import UserFactory
from core.audit import GENESIS, audit_hash, audit_record, audit_verify
from core.models import AuditAction, AuditLog
from core.testing import run_in_threads


def _record(n: int, actor=None) -> list[AuditLog]:
    return [
        audit_record(
            actor=actor,
            action=AuditAction.ADJUSTMENT_PROPOSED,
            target_type="ledger.adjustment",
            target_id=f"adj-{i}",
            before={},
            after={"amount": 1000 + i, "currency": "EUR", "note": "ünïcode"},
            reason=f"reason {i}",
            ip="2001:db8::1",
        )
        for i in range(n)
    ]


def _tamper(sql: str, params: list) -> None:
    """What a superuser with database access could do: disable the trigger, change, re-enable."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending FK checks
        cursor.execute("ALTER TABLE core_auditlog DISABLE TRIGGER core_auditlog_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE core_auditlog ENABLE TRIGGER core_auditlog_append_only")


@pytest.mark.django_db
def test_rows_chain_each_to_the_previous_hash():
    actor = UserFactory()
    rows = _record(3, actor)
    assert rows[0].prev_hash == GENESIS
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    stored = AuditLog.objects.get(pk=rows[2].pk)
    assert audit_hash(stored) == stored.hash  # content read back from the database gives the same hash
    assert stored.actor_label == actor.email and stored.ip == "2001:db8::1"
    result = audit_verify()
    assert result.ok and result.rows == 3


@pytest.mark.django_db
def test_update_and_delete_are_refused_by_the_trigger():
    row = _record(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).update(reason="nothing happened")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).delete()


@pytest.mark.django_db
def test_a_row_edited_behind_the_trigger_is_the_first_broken_row():
    rows = _record(5)
    _tamper("UPDATE core_auditlog SET after = %s WHERE id = %s", ['{"amount": 1}', rows[2].pk])
    result = audit_verify()
    assert result.broken is not None
    assert result.broken.row_id == rows[2].pk
    assert "content" in result.broken.reason


@pytest.mark.django_db
def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_row():
    rows = _record(4)
    edited = AuditLog.objects.get(pk=rows[1].pk)
    edited.reason = "rewritten"
    new_hash = audit_hash(edited)
    _tamper(
        "UPDATE core_auditlog SET reason = %s, hash = %s WHERE id = %s", ["rewritten", new_hash, rows[1].pk]
    )
    result = audit_verify(batch=2)  # the walk crosses batch boundaries
    assert result.broken is not None and result.broken.row_id == rows[2].pk
    assert "prev_hash" in result.broken.reason


@pytest.mark.django_db
def test_a_deleted_row_breaks_the_chain_at_its_successor():
    rows = _record(4)
    _tamper("DELETE FROM core_auditlog WHERE id = %s", [rows[1].pk])
    result = audit_verify()
    assert result.broken is not None and result.broken.row_id == rows[2].pk


@pytest.mark.django_db
def test_audit_verify_command_and_check_ledger_report_the_broken_row(capsys):
    rows = _record(3)
    call_command("audit_verify")
    assert "Audit chain intact: 3 rows" in capsys.readouterr().out
    call_command("check_ledger")
    assert "audit_chain" in capsys.readouterr().out
    _tamper("UPDATE core_auditlog SET ip = %s WHERE id = %s", ["10.0.0.9", rows[0].pk])
    with pytest.raises(CommandError, match=f"broken at row {rows[0].pk}") as failed:
        call_command("audit_verify")
    assert failed.value.returncode == 1
    with pytest.raises(CommandError, match="audit_chain"):
        call_command("check_ledger")
    assert f"row {rows[0].pk}" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_concurrent_records_form_one_unbroken_chain():
    def work(i: int) -> int:
        return _record(1)[0].pk

    ids = run_in_threads(8, work)
    assert len(set(ids)) == 8
    hashes = list(AuditLog.objects.order_by("id").values_list("prev_hash", "hash"))
    assert len({prev for prev, _ in hashes}) == 8  # no two rows chained to the same predecessor
    assert audit_verify().ok
