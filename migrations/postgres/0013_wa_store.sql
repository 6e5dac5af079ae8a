-- WhatsApp Web device state: what the whatsapp-rust engine keeps for each
-- linked number (its device keys, Signal sessions, prekeys, sender keys,
-- app-state sync, protocol caches). Every row belongs to one Blazz account
-- and goes with it. Identical in both dialects except BLOB/BYTEA.
--
-- Private values are sealed by the app (AES-256-GCM under the master key,
-- bound to account, table and row key) and stored as `sealed` text, with
-- `key_id` repeating the key named inside it so that a rotation can find
-- the rows not yet under the current key. Public values stay plain.
--
-- Our own bookkeeping times (`*_at`) are unix milliseconds; times the
-- protocol hands us are kept as it gives them, unix seconds (`*_secs`).

-- The device itself (identity and noise key pairs, signed prekey, adv
-- secret, account signature, counters): one per account, sealed whole.
-- `pn` and `lid` repeat its public WhatsApp ids for operators.
CREATE TABLE wa_devices (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    pn TEXT,
    lid TEXT,
    key_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Signal: remote identity public keys (plain), sessions, one-time and
-- signed prekeys, group sender keys (sealed).
CREATE TABLE wa_identities (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    identity_key BYTEA NOT NULL,
    PRIMARY KEY (account_id, address)
);

CREATE TABLE wa_sessions (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    key_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, address)
);

CREATE TABLE wa_prekeys (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    prekey_id BIGINT NOT NULL,
    -- 1 once the server holds it.
    uploaded BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    PRIMARY KEY (account_id, prekey_id)
);

CREATE TABLE wa_signed_prekeys (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    prekey_id BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    PRIMARY KEY (account_id, prekey_id)
);

CREATE TABLE wa_sender_keys (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    key_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, address)
);

-- App-state sync: keys (the key data sealed), each collection's version
-- and hash, and the value MACs of its mutations.
CREATE TABLE wa_app_state_keys (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sync_key_id BYTEA NOT NULL,
    fingerprint BYTEA NOT NULL,
    key_secs BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    PRIMARY KEY (account_id, sync_key_id)
);

CREATE TABLE wa_app_state_versions (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    collection TEXT NOT NULL,
    version BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    -- (index MAC, value MAC) pairs, each length-prefixed.
    index_values BYTEA NOT NULL,
    -- 1 once a patch failed the snapshot MAC check (until the next snapshot).
    mac_mismatch BIGINT NOT NULL,
    PRIMARY KEY (account_id, collection)
);

CREATE TABLE wa_app_state_macs (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    collection TEXT NOT NULL,
    index_mac BYTEA NOT NULL,
    version BIGINT NOT NULL,
    value_mac BYTEA NOT NULL,
    PRIMARY KEY (account_id, collection, index_mac)
);

-- Protocol caches, all public: which group devices hold our sender key,
-- LID <-> phone number mappings, base keys seen in retries, device lists,
-- group metadata, trusted-contact tokens.
CREATE TABLE wa_sender_key_devices (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    group_jid TEXT NOT NULL,
    device_jid TEXT NOT NULL,
    has_key BIGINT NOT NULL,
    PRIMARY KEY (account_id, group_jid, device_jid)
);
CREATE INDEX wa_sender_key_devices_device ON wa_sender_key_devices(account_id, device_jid);

CREATE TABLE wa_lid_mappings (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lid TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    learning_source TEXT NOT NULL,
    created_secs BIGINT NOT NULL,
    updated_secs BIGINT NOT NULL,
    PRIMARY KEY (account_id, lid)
);
CREATE INDEX wa_lid_mappings_phone ON wa_lid_mappings(account_id, phone_number, updated_secs);

CREATE TABLE wa_base_keys (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    message_id TEXT NOT NULL,
    base_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, address, message_id)
);

CREATE TABLE wa_device_lists (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    -- JSON array of {device_id, key_index, is_hosted}.
    devices TEXT NOT NULL,
    list_secs BIGINT NOT NULL,
    phash TEXT,
    raw_id BIGINT,
    PRIMARY KEY (account_id, user_id)
);

CREATE TABLE wa_group_metadata (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    group_jid TEXT NOT NULL,
    info BYTEA NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, group_jid)
);

-- `token` is empty for a placeholder that only records when we last
-- issued our own token to the contact (`sender_secs`).
CREATE TABLE wa_tc_tokens (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid TEXT NOT NULL,
    token BYTEA NOT NULL,
    token_secs BIGINT NOT NULL,
    sender_secs BIGINT,
    PRIMARY KEY (account_id, jid)
);

-- Messages: sent payloads kept for retry receipts, decrypted inbound
-- messages buffered until the app has stored them (at-least-once), and
-- the per-message secrets that open reactions, poll votes and edits.
CREATE TABLE wa_sent_messages (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    chat_jid TEXT NOT NULL,
    message_id TEXT NOT NULL,
    payload BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, chat_jid, message_id)
);
CREATE INDEX wa_sent_messages_age ON wa_sent_messages(account_id, created_at);

CREATE TABLE wa_pending_inbound (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    chat_jid TEXT NOT NULL,
    sender_jid TEXT NOT NULL,
    message_id TEXT NOT NULL,
    message BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, chat_jid, sender_jid, message_id)
);
CREATE INDEX wa_pending_inbound_age ON wa_pending_inbound(account_id, created_at);

-- `expires_secs` 0 means never; `message_secs` 0 means unknown.
CREATE TABLE wa_msg_secrets (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    chat_jid TEXT NOT NULL,
    sender_jid TEXT NOT NULL,
    message_id TEXT NOT NULL,
    expires_secs BIGINT NOT NULL,
    message_secs BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    sealed TEXT NOT NULL,
    PRIMARY KEY (account_id, chat_jid, sender_jid, message_id)
);
CREATE INDEX wa_msg_secrets_expiry ON wa_msg_secrets(account_id, expires_secs);
