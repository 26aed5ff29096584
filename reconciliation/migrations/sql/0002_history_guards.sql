-- Reconciliation history the database keeps honest whatever code writes to it.
-- reject_history_change() is the ledger's append-only function (ledger/migrations/sql/0002_ledger_triggers.sql).

-- 1. Imported reports and their lines are what the provider sent: append-only.
CREATE TRIGGER reconciliation_report_append_only
    BEFORE UPDATE OR DELETE ON reconciliation_settlementreport
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();

CREATE TRIGGER reconciliation_line_append_only
    BEFORE UPDATE OR DELETE ON reconciliation_settlementline
    FOR EACH ROW EXECUTE FUNCTION reject_history_change();

-- 2. A match is written once; the only later change is recording its settlement, once.
CREATE OR REPLACE FUNCTION reconciliation_match_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'matches are append-only: delete of match % refused', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.settlement_id IS NOT NULL OR NEW.settlement_id IS NULL
       OR (NEW.id, NEW.run_id, NEW.provider, NEW.line_key, NEW.line_id, NEW.transfer_id, NEW.payment_id,
           NEW.kind, NEW.note, NEW.created_at)
          IS DISTINCT FROM
          (OLD.id, OLD.run_id, OLD.provider, OLD.line_key, OLD.line_id, OLD.transfer_id, OLD.payment_id,
           OLD.kind, OLD.note, OLD.created_at) THEN
        RAISE EXCEPTION 'match %: only its settlement may be recorded, once', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER reconciliation_match_write_once
    BEFORE UPDATE OR DELETE ON reconciliation_match
    FOR EACH ROW EXECUTE FUNCTION reconciliation_match_guard();

-- 3. A discrepancy is never deleted, what was found never changes, and a closed one stays closed.
CREATE OR REPLACE FUNCTION reconciliation_discrepancy_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'discrepancies are append-only: delete of discrepancy % refused', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status <> 'open' THEN
        RAISE EXCEPTION 'discrepancy % is %: a closed discrepancy stays closed', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.provider, NEW.day, NEW.cls, NEW.key, NEW.run_id, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.provider, OLD.day, OLD.cls, OLD.key, OLD.run_id, OLD.created_at) THEN
        RAISE EXCEPTION 'discrepancy %: what was found may not change', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER reconciliation_discrepancy_guard
    BEFORE UPDATE OR DELETE ON reconciliation_discrepancy
    FOR EACH ROW EXECUTE FUNCTION reconciliation_discrepancy_guard();

-- 4. A finished run is final; runs are never deleted.
CREATE OR REPLACE FUNCTION reconciliation_run_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.status <> 'running' THEN
        RAISE EXCEPTION 'reconciliation run % is %: runs are history', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER reconciliation_run_final
    BEFORE UPDATE OR DELETE ON reconciliation_reconciliationrun
    FOR EACH ROW EXECUTE FUNCTION reconciliation_run_guard();
