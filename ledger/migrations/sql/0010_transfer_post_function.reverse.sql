DROP FUNCTION IF EXISTS ledger_transfer_post(
    uuid, text, uuid, uuid[], bigint[], text, bigint, text, jsonb, text, boolean, timestamptz, timestamptz
);
