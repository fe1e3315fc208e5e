-- Delivery receipts: providers report that a sent message was delivered, undelivered or read.

-- Each lands in the message's trace once per state, however often the provider repeats it.
CREATE UNIQUE INDEX trace_receipt_once ON trace (message_id, event) WHERE event IN ('delivered', 'undelivered', 'read');
-- A receipt that names only the provider's id (Tencent's sid) finds its message by the detail
-- its send recorded (`tencent: <SerialNo>`).
CREATE INDEX deliveries_provider_ref ON deliveries (detail) WHERE state = 'sent' AND detail IS NOT NULL;
-- Receipts that name no sent message: kept and reported, never dropped silently.
CREATE TABLE unmatched_receipts (
    id           INTEGER PRIMARY KEY,
    provider     TEXT NOT NULL,
    reference    TEXT NOT NULL,
    state        TEXT NOT NULL,
    code         TEXT,
    received_at  INTEGER NOT NULL
);
CREATE INDEX unmatched_receipts_at ON unmatched_receipts (received_at);
