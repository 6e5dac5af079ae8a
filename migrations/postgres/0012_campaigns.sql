-- Campaigns: a message sent to an audience from a set of numbers, paced
-- per number. `message`, `audience` and `settings` are JSON documents the
-- application validates; the recipients are materialised once, when the
-- campaign starts, and each is sent at most once.

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    audience TEXT NOT NULL,
    settings TEXT NOT NULL,
    -- When a scheduled campaign starts (ms since the epoch, UTC).
    start_at BIGINT,
    planned_at BIGINT,
    started_at BIGINT,
    finished_at BIGINT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX campaigns_workspace ON campaigns(workspace_id, created_at);
CREATE INDEX campaigns_status ON campaigns(status, start_at);

-- The numbers a campaign sends from, with their share of the sends and,
-- while one stops sending for the campaign, why and until when.
CREATE TABLE campaign_numbers (
    campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    weight BIGINT NOT NULL,
    paused_reason TEXT,
    paused_until BIGINT,
    PRIMARY KEY (campaign_id, account_id)
);

-- One row per (campaign, contact): the planner inserts with ON CONFLICT
-- DO NOTHING, so planning twice plans once. `message_id` is set in the
-- same transaction that stores the message and its send job.
CREATE TABLE campaign_recipients (
    campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    phone TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    account_id TEXT,
    message_id TEXT,
    -- When it was handed to a number (the pacer's and the cooldown's clock).
    sent_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, contact_id)
);
CREATE INDEX campaign_recipients_queue ON campaign_recipients(campaign_id, status, seq);
CREATE INDEX campaign_recipients_message ON campaign_recipients(message_id);
CREATE INDEX campaign_recipients_contact ON campaign_recipients(contact_id, sent_at);
CREATE INDEX campaign_recipients_account ON campaign_recipients(account_id, sent_at);

-- Which campaign an outbound message (or a reply to one) belongs to.
ALTER TABLE messages ADD COLUMN campaign_id TEXT;
