-- The payment timeline is history: events are added, never changed or removed.
-- reject_history_change() comes from ledger's 0002 migration.
CREATE TRIGGER payments_event_append_only
    BEFORE UPDATE OR DELETE ON payments_paymentevent
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();
