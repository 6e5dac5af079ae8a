-- Realtime: every workspace is one Pusher Channels "app". The app id is a
-- number because the official Pusher server libraries accept no other; the
-- key is public (browsers connect with it); the secret that signs channel
-- authorisations and HTTP API calls is sealed in `secrets` (owner kind
-- `realtime_app`, owner id = the app id, name `secret`).

CREATE TABLE realtime_apps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL UNIQUE REFERENCES workspaces(id) ON DELETE CASCADE,
    app_key TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT
);
