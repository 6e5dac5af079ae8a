-- Linked numbers and the link attempts that rate-limit them.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    linked_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX accounts_workspace ON accounts(workspace_id, id);
CREATE INDEX accounts_status ON accounts(status);

CREATE TABLE link_attempts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX link_attempts_workspace ON link_attempts(workspace_id, created_at);
