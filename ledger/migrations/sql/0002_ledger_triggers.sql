-- Ledger guarantees that hold whatever code writes to the tables.

-- 1. Entries are append-only. reject_history_change() serves every append-only table of the project.
CREATE OR REPLACE FUNCTION reject_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are append-only: % refused; record a correction instead', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- 2. Transfers are append-only too, except the one change a hold goes through:
--    pending -> posted | voided | expired, with the fields that record it.
CREATE OR REPLACE FUNCTION ledger_transfer_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'transfers are append-only: delete of transfer % refused', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status <> 'pending' OR NEW.status NOT IN ('posted', 'voided', 'expired') THEN
        RAISE EXCEPTION 'transfer % is %: only a pending transfer may change, to posted, voided or expired',
            OLD.id, OLD.status USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.kind, NEW.amount, NEW.currency, NEW.source_id, NEW.destination_id, NEW.description,
        NEW.metadata, NEW.cause, NEW.reverses_id, NEW.created_by_id, NEW.created_at, NEW.expires_at)
       IS DISTINCT FROM
       (OLD.id, OLD.kind, OLD.amount, OLD.currency, OLD.source_id, OLD.destination_id, OLD.description,
        OLD.metadata, OLD.cause, OLD.reverses_id, OLD.created_by_id, OLD.created_at, OLD.expires_at) THEN
        RAISE EXCEPTION 'transfer %: only status, posted_amount, posted_at and finalized_at may change', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status <> 'posted' AND (NEW.posted_amount IS NOT NULL OR NEW.posted_at IS NOT NULL) THEN
        RAISE EXCEPTION 'transfer %: a % transfer has no posted amount', OLD.id, NEW.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER ledger_transfer_append_only
    BEFORE UPDATE OR DELETE ON ledger_transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_transfer_guard();

-- 3. At commit, every transfer balances: a posted one has at least two entries in its
--    currency (and its accounts'), summing to zero, whose debits equal posted_amount;
--    a pending, voided or expired one has none.
CREATE OR REPLACE FUNCTION ledger_transfer_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_transfer_id uuid;
    t record;
    n integer;
    total numeric;
    debits numeric;
    foreign_currency integer;
BEGIN
    IF TG_TABLE_NAME = 'ledger_entry' THEN
        v_transfer_id := NEW.transfer_id;
    ELSE
        v_transfer_id := NEW.id;
    END IF;
    SELECT status, currency, posted_amount INTO t FROM ledger_transfer WHERE id = v_transfer_id;
    SELECT count(*), coalesce(sum(e.amount), 0), coalesce(sum(e.amount) FILTER (WHERE e.amount > 0), 0),
           count(*) FILTER (WHERE e.currency <> t.currency OR a.currency <> t.currency)
      INTO n, total, debits, foreign_currency
      FROM ledger_entry e JOIN ledger_account a ON a.id = e.account_id
     WHERE e.transfer_id = v_transfer_id;
    IF t.status = 'posted' THEN
        IF n < 2 OR total <> 0 OR debits <> t.posted_amount OR foreign_currency > 0 THEN
            RAISE EXCEPTION 'transfer % does not balance: % entries, sum %, debits % for posted amount %, % in another currency',
                v_transfer_id, n, total, debits, t.posted_amount, foreign_currency
                USING ERRCODE = 'check_violation';
        END IF;
    ELSIF n > 0 THEN
        RAISE EXCEPTION 'transfer % is % and must have no entries, has %', v_transfer_id, t.status, n
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ledger_entry_balanced
    AFTER INSERT ON ledger_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transfer_check_balanced();

CREATE CONSTRAINT TRIGGER ledger_transfer_balanced
    AFTER INSERT OR UPDATE ON ledger_transfer
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transfer_check_balanced();
