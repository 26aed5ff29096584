DROP TRIGGER IF EXISTS ledger_adjustment_decided_once ON ledger_adjustment;
DROP FUNCTION IF EXISTS ledger_adjustment_guard();
