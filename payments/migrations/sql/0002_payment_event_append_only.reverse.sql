DROP TRIGGER IF EXISTS payments_event_append_only ON payments_paymentevent;
