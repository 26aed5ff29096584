DROP TRIGGER IF EXISTS ledger_transfer_balanced ON ledger_transfer;
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_entry;
DROP TRIGGER IF EXISTS ledger_transfer_append_only ON ledger_transfer;
DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_transfer_check_balanced();
DROP FUNCTION IF EXISTS ledger_transfer_guard();
DROP FUNCTION IF EXISTS reject_history_change();
