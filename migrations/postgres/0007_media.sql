-- Media of a workspace: uploads for sending and the media of inbound
-- messages. The bytes live in the object store under `storage_key`; the
-- row is written after them, so a row always has its bytes.

CREATE TABLE media (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    filename TEXT,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    origin TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX media_workspace ON media(workspace_id, created_at);
