-- One posting (a transfer with one or more credits, or a hold) in one round trip.
--
-- ledger.services.postings.transfer_split_create calls it inside its transaction. It locks every
-- account of the posting in primary-key order (the ledger's one global order, as
-- ledger.locks.accounts_lock does), checks them under the lock, and writes the transfer, its entries
-- and the accounts' new totals. The same constraints and deferred triggers check what it writes.
--
-- A refusal writes nothing and raises nothing: the function answers the refusal's code, the account
-- it concerns and the value that refused it (the account's currency or status), and the service raises
-- the LedgerError. The rules are posting_plan's (ledger/services/postings.py), in the same order:
-- existence and visibility, currency, status, then funds; ledger/tests/test_posting_parity.py runs
-- every refusal through both and compares.
CREATE OR REPLACE FUNCTION ledger_transfer_post(
    p_id uuid,
    p_kind text,
    p_source uuid,
    p_credit_accounts uuid[],
    p_credit_amounts bigint[],
    p_currency text,
    p_actor bigint,
    p_description text,
    p_metadata jsonb,
    p_cause text,
    p_pending boolean,
    p_expires_at timestamptz,
    p_now timestamptz,
    OUT refusal text,
    OUT refused_account uuid,
    OUT refused_value text,
    OUT entry_ids bigint[],
    OUT balances bigint[]
) LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_ids uuid[] := array_prepend(p_source, p_credit_accounts);
    v_n integer := array_length(v_ids, 1);
    v_total bigint;
    v_accounts ledger_account[];
    v_account ledger_account;
    v_legs bigint[] := '{}';
    v_leg bigint;
    v_source ledger_account;
    v_available bigint;
    i integer;
BEGIN
    SELECT sum(amount) INTO v_total FROM unnest(p_credit_amounts) AS amount;
    PERFORM 1 FROM ledger_account WHERE id = ANY(v_ids) ORDER BY id FOR UPDATE;

    FOR i IN 1..v_n LOOP
        SELECT * INTO v_account FROM ledger_account WHERE id = v_ids[i];
        IF NOT FOUND OR (p_actor IS NOT NULL AND (
               v_account.system_code IS NOT NULL
            OR (i = 1 AND v_account.owner_id IS DISTINCT FROM p_actor)
            OR (i > 1 AND v_account.owner_id IS DISTINCT FROM p_actor AND NOT v_account.accepts_external_transfers)
        )) THEN
            refusal := 'not_found';
            refused_account := v_ids[i];
            RETURN;
        END IF;
        v_accounts[i] := v_account;
    END LOOP;
    FOR i IN 1..v_n LOOP
        IF v_accounts[i].currency <> p_currency THEN
            refusal := 'currency_mismatch';
            refused_account := v_ids[i];
            refused_value := v_accounts[i].currency;
            RETURN;
        END IF;
    END LOOP;
    FOR i IN 1..v_n LOOP
        IF v_accounts[i].status <> 'active' THEN
            refusal := 'account_inactive';
            refused_account := v_ids[i];
            refused_value := v_accounts[i].status;
            RETURN;
        END IF;
    END LOOP;

    v_source := v_accounts[1];
    IF p_pending THEN
        v_source.pending_debits := v_source.pending_debits + v_total;
    ELSE
        balances := '{}';
        FOR i IN 1..v_n LOOP
            v_leg := CASE WHEN i = 1 THEN v_total ELSE -p_credit_amounts[i - 1] END;
            v_legs := v_legs || v_leg;
            balances := balances || (v_accounts[i].balance
                + v_leg * CASE WHEN v_accounts[i].kind IN ('asset', 'expense') THEN 1 ELSE -1 END);
        END LOOP;
        v_source.balance := balances[1];
    END IF;
    v_available := v_source.balance - CASE WHEN v_source.kind IN ('asset', 'expense')
                                           THEN v_source.pending_credits ELSE v_source.pending_debits END;
    IF NOT v_source.allow_negative AND (v_source.balance < 0 OR v_available < 0) THEN
        refusal := 'insufficient_funds';
        refused_account := p_source;
        balances := NULL;
        RETURN;
    END IF;

    INSERT INTO ledger_transfer
        (id, kind, status, amount, posted_amount, currency, source_id, destination_id, description, metadata,
         cause, created_by_id, created_at, posted_at, expires_at)
    VALUES
        (p_id, p_kind, CASE WHEN p_pending THEN 'pending' ELSE 'posted' END, v_total,
         CASE WHEN p_pending THEN NULL ELSE v_total END, p_currency, p_source, p_credit_accounts[1],
         p_description, p_metadata, p_cause, p_actor, p_now, CASE WHEN p_pending THEN NULL ELSE p_now END,
         p_expires_at);
    IF p_pending THEN
        UPDATE ledger_account
           SET pending_debits = CASE WHEN id = p_source THEN pending_debits + v_total ELSE pending_debits END,
               pending_credits = CASE WHEN id = p_source THEN pending_credits ELSE pending_credits + v_total END,
               version = version + 1
         WHERE id = ANY(v_ids);
        entry_ids := '{}';
        balances := '{}';
    ELSE
        WITH inserted AS (
            INSERT INTO ledger_entry (transfer_id, account_id, amount, currency, balance_after, created_at)
            SELECT p_id, leg.account_id, leg.amount, p_currency, leg.balance, p_now
              FROM unnest(v_ids, v_legs, balances) AS leg(account_id, amount, balance)
            RETURNING id
        )
        SELECT array_agg(id ORDER BY id) INTO entry_ids FROM inserted;
        UPDATE ledger_account AS a
           SET balance = v.balance, version = a.version + 1
          FROM unnest(v_ids, balances) AS v(id, balance)
         WHERE a.id = v.id;
    END IF;
END
$$;
