-- The payment timeline is history: events are added, never changed or removed.
CREATE OR REPLACE FUNCTION payments_event_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'payment events are append-only: % of event % refused', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER payments_event_append_only
    BEFORE UPDATE OR DELETE ON payments_paymentevent
    FOR EACH ROW EXECUTE FUNCTION payments_event_reject_change();
