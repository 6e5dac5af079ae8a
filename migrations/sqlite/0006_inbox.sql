-- The inbox: chats, their labels and notes, messages, and receipts that
-- arrived before their message. Identical in both dialects except the
-- identity column and the full-text index at the end.

-- Chats: one per (linked number, contact), with the inbox's working state.
CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    assignee_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    unread_count BIGINT NOT NULL,
    last_message_id TEXT,
    last_message_preview TEXT,
    last_direction TEXT,
    -- Last activity (the newest message, or the creation): the list order.
    active_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX chats_account_contact ON chats(account_id, contact_id);
CREATE INDEX chats_workspace_active ON chats(workspace_id, active_at, id);
CREATE INDEX chats_assignee ON chats(workspace_id, assignee_id, active_at);

CREATE TABLE chat_labels (
    workspace_id TEXT NOT NULL,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    PRIMARY KEY (chat_id, label)
);
CREATE INDEX chat_labels_label ON chat_labels(workspace_id, label, chat_id);

-- Internal notes: seen by the team, never sent.
CREATE TABLE chat_notes (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    author_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX chat_notes_chat ON chat_notes(chat_id, created_at);

-- Messages, both directions. `seq` orders messages that share a
-- provider timestamp and keys the full-text index.
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    direction TEXT NOT NULL,
    -- The network's id; unknown for an outbound message until it is sent
    -- on networks that choose ids themselves.
    provider_message_id TEXT,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    -- What full-text search sees: the text, caption or rendered template.
    text TEXT,
    media_id TEXT,
    reply_to_id TEXT,
    reply_to_provider_id TEXT,
    status TEXT NOT NULL,
    error TEXT,
    source TEXT NOT NULL,
    author TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    -- The provider's timestamp (inbound) or the acceptance time (outbound).
    sent_at BIGINT NOT NULL,
    delivered_at BIGINT,
    read_at BIGINT,
    failed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX messages_provider_id ON messages(account_id, provider_message_id);
CREATE UNIQUE INDEX messages_idempotency ON messages(workspace_id, idempotency_key);
CREATE INDEX messages_chat ON messages(chat_id, sent_at, seq);

-- A receipt for a message not (yet) known by its provider id: applied when
-- the message gets that id.
CREATE TABLE early_receipts (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    provider_message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (account_id, provider_message_id, status)
);

-- Full-text search: an FTS5 index over messages.text, kept by triggers.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, content = 'messages', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.text IS NOT NULL BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.text IS NOT NULL BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text)
        SELECT 'delete', old.seq, old.text WHERE old.text IS NOT NULL;
    INSERT INTO messages_fts(rowid, text)
        SELECT new.seq, new.text WHERE new.text IS NOT NULL;
END;
