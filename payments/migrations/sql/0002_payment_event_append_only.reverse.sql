DROP TRIGGER IF EXISTS payments_event_append_only ON payments_paymentevent;
DROP FUNCTION IF EXISTS payments_event_reject_change();
