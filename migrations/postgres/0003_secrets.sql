-- Secrets at rest: provider credentials sealed with AES-256-GCM by the app
-- (the store never sees them in clear). `key_id` repeats the key named in
-- `sealed` so that rotation can find every value not yet under the current
-- key. One owner (an account, a webhook...) has at most one secret per name.

CREATE TABLE secrets (
    id TEXT PRIMARY KEY,
    workspace_id TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    key_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner_kind, owner_id, name)
);
CREATE INDEX secrets_key ON secrets(key_id, id);
CREATE INDEX secrets_workspace ON secrets(workspace_id);
