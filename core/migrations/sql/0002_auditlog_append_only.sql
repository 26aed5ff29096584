-- The audit log is history: rows are added, never changed or removed (the hash chain in core.audit
-- shows it if someone does anyway, with the trigger disabled). reject_history_change() comes from
-- ledger's 0002 migration.
CREATE TRIGGER core_auditlog_append_only
    BEFORE UPDATE OR DELETE ON core_auditlog
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
