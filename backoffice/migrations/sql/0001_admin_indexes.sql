-- Indexes the back office's pages need on the money apps' tables: list ordering and date ranges,
-- exact searches (payment reference, correlation id), metadata values, the failure-code filter.
-- Owned here, beside the pages that use them, so the ledger and payments apps' migrations stay theirs.
CREATE INDEX IF NOT EXISTS backoffice_transfer_created ON ledger_transfer (created_at DESC);
CREATE INDEX IF NOT EXISTS backoffice_transfer_metadata ON ledger_transfer USING gin (metadata jsonb_path_ops);
CREATE INDEX IF NOT EXISTS backoffice_entry_created ON ledger_entry (created_at);
CREATE INDEX IF NOT EXISTS backoffice_payment_created ON payments_payment (created_at DESC);
CREATE INDEX IF NOT EXISTS backoffice_payment_reference ON payments_payment (reference) WHERE reference <> '';
CREATE INDEX IF NOT EXISTS backoffice_payment_correlation ON payments_payment (correlation_id);
CREATE INDEX IF NOT EXISTS backoffice_payment_failure_code ON payments_payment (failure_code) WHERE status = 'failed';
CREATE INDEX IF NOT EXISTS backoffice_refund_created ON payments_refund (created_at DESC);
CREATE INDEX IF NOT EXISTS backoffice_event_correlation ON payments_paymentevent (correlation_id);
CREATE INDEX IF NOT EXISTS backoffice_outbox_created ON payments_outboxmessage (created_at DESC);
