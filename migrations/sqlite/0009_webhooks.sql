-- Outgoing webhooks: a workspace's endpoints, and one delivery per
-- (endpoint, outbox event) carrying the exact body that is signed and sent.
-- Identical in both dialects except the identity column. Signing secrets
-- live sealed in `secrets` (owner_kind 'webhook').

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT,
    -- A JSON array of public event names, or ["*"].
    events TEXT NOT NULL,
    disabled_at BIGINT,
    disabled_reason TEXT,
    -- The first failure since the last success (cleared by a success).
    failing_since BIGINT,
    secret_rotated_at BIGINT,
    -- Until when the previous secret signs too (after a rotation).
    previous_secret_until BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints(workspace_id, id);

-- `seq` orders an endpoint's deliveries (they go out oldest first).
CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    -- The outbox event delivered; NULL for test pings.
    event_seq BIGINT,
    event_type TEXT NOT NULL,
    -- The `webhook-id` header: the same on every attempt and replay.
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    -- pending | delivered | failed
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_attempt_at BIGINT,
    status_code BIGINT,
    latency_ms BIGINT,
    response TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries(endpoint_id, event_seq);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, state, seq);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries(state, created_at);

-- Which committed events have been turned into deliveries. Rows from
-- before this migration had no endpoint to go to.
ALTER TABLE outbox ADD COLUMN webhooks_at BIGINT;
UPDATE outbox SET webhooks_at = created_at;
CREATE INDEX outbox_webhooks_pending ON outbox(id) WHERE webhooks_at IS NULL;
