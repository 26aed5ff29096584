-- An adjustment is decided once: only a proposed one may change, and only its decision fields.
-- (Who may decide — someone other than the proposer — is a CHECK constraint on the table.)
CREATE OR REPLACE FUNCTION ledger_adjustment_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'adjustments are append-only: delete of adjustment % refused', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status <> 'proposed' THEN
        RAISE EXCEPTION 'adjustment % is already %: a decision is final', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.debit_account_id, NEW.credit_account_id, NEW.amount, NEW.currency, NEW.reason, NEW.cause,
        NEW.proposed_by_id, NEW.proposed_at)
       IS DISTINCT FROM
       (OLD.id, OLD.debit_account_id, OLD.credit_account_id, OLD.amount, OLD.currency, OLD.reason, OLD.cause,
        OLD.proposed_by_id, OLD.proposed_at) THEN
        RAISE EXCEPTION 'adjustment %: only the decision may be recorded', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER ledger_adjustment_decided_once
    BEFORE UPDATE OR DELETE ON ledger_adjustment
    FOR EACH ROW EXECUTE FUNCTION ledger_adjustment_guard();
