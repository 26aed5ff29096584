DROP TRIGGER IF EXISTS reconciliation_run_final ON reconciliation_reconciliationrun;
DROP FUNCTION IF EXISTS reconciliation_run_guard();
DROP TRIGGER IF EXISTS reconciliation_discrepancy_guard ON reconciliation_discrepancy;
DROP FUNCTION IF EXISTS reconciliation_discrepancy_guard();
DROP TRIGGER IF EXISTS reconciliation_match_write_once ON reconciliation_match;
DROP FUNCTION IF EXISTS reconciliation_match_guard();
DROP TRIGGER IF EXISTS reconciliation_line_append_only ON reconciliation_settlementline;
DROP TRIGGER IF EXISTS reconciliation_report_append_only ON reconciliation_settlementreport;
