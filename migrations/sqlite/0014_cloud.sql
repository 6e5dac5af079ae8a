-- Meta's WhatsApp Cloud API: the routing half of a Cloud number's
-- credentials (the secrets themselves are sealed in `secrets`), webhook
-- items already handled, message templates, and account groups that fail
-- over from one number to another. Identical in both dialects.

-- One row per Cloud number: how webhooks find it. The verify token is kept
-- only as a hash (the sealed credentials hold it in full).
CREATE TABLE cloud_numbers (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    phone_number_id TEXT NOT NULL,
    business_account_id TEXT NOT NULL,
    verify_token_hash TEXT NOT NULL,
    -- Set when Meta refused sends for policy reasons (131048, 368, 131031):
    -- nothing is sent from the number until an admin resumes it.
    paused_at BIGINT,
    paused_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cloud_numbers_phone_number ON cloud_numbers(phone_number_id);
CREATE INDEX cloud_numbers_verify_token ON cloud_numbers(verify_token_hash);
CREATE INDEX cloud_numbers_workspace ON cloud_numbers(workspace_id, account_id);

-- Webhook items handled already (a message id, or a message id and a
-- status): Meta retries deliveries for days.
CREATE TABLE cloud_webhook_seen (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    item TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, item)
);
CREATE INDEX cloud_webhook_seen_at ON cloud_webhook_seen(seen_at);

-- Message templates of a Cloud number's WhatsApp Business Account, as Meta
-- knows them (synced, created here, or updated by webhook).
CREATE TABLE cloud_templates (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    meta_id TEXT,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT,
    status TEXT NOT NULL,
    parameter_format TEXT NOT NULL,
    components TEXT NOT NULL,
    reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX cloud_templates_name ON cloud_templates(account_id, name, language);
CREATE INDEX cloud_templates_workspace ON cloud_templates(workspace_id, account_id, name);
CREATE INDEX cloud_templates_meta ON cloud_templates(meta_id);

-- A primary number and the number that takes over its sends when it is
-- not connected.
CREATE TABLE account_groups (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    primary_account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    fallback_account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX account_groups_workspace ON account_groups(workspace_id, id);

-- Which number (and network) actually sent a message addressed to a group.
CREATE TABLE message_routes (
    message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_group_id TEXT NOT NULL,
    account_id TEXT,
    provider TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
