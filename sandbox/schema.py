"""The sandbox store's SQLite schema, and the columns added to it since its first release."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    capture INTEGER NOT NULL,
    reference TEXT NOT NULL,
    metadata TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_captured INTEGER NOT NULL DEFAULT 0,
    amount_refunded INTEGER NOT NULL DEFAULT 0,
    failure_code TEXT,
    failure_message TEXT,
    created INTEGER NOT NULL,
    resolve_at REAL
);
CREATE INDEX IF NOT EXISTS charges_reference ON charges (reference);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY,
    charge_id TEXT NOT NULL REFERENCES charges (id),
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_code TEXT,
    failure_message TEXT,
    created INTEGER NOT NULL,
    resolve_at REAL,
    reference TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS refunds_charge ON refunds (charge_id);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settlement_lines (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    line_id TEXT,
    day TEXT NOT NULL,
    type TEXT NOT NULL,
    charge_id TEXT NOT NULL,
    refund_id TEXT,
    reference TEXT NOT NULL DEFAULT '',
    amount INTEGER NOT NULL,
    fee INTEGER NOT NULL,
    currency TEXT NOT NULL,
    occurred_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS settlement_lines_day ON settlement_lines (day);
CREATE TABLE IF NOT EXISTS settlement_reports (
    day TEXT NOT NULL,
    version INTEGER NOT NULL,
    created INTEGER NOT NULL,
    faults TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (day, version)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    created INTEGER NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS events_due ON events (state, next_attempt);
"""
# Columns added after the first release, for SQLite files created before them.
_ADDED_COLUMNS = (
    ("refunds", "reference", "TEXT NOT NULL DEFAULT ''"),
    ("settlement_lines", "line_id", "TEXT"),
    ("settlement_lines", "reference", "TEXT NOT NULL DEFAULT ''"),
)
TABLES = ("refunds", "charges", "idempotency", "settlement_lines", "settlement_reports", "events")
