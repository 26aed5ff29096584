-- Back to 0002's balanced-transfer check (a join of entries and accounts), without the SET clause.
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
