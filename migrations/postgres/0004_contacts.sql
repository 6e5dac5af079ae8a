-- Contacts of a workspace; tags (also the audience groups of campaigns)
-- live in their own table so that "everyone tagged vip" is an index scan.

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    name TEXT,
    fields TEXT NOT NULL,
    notes TEXT,
    opted_out_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX contacts_phone ON contacts(workspace_id, phone);
CREATE INDEX contacts_workspace ON contacts(workspace_id, id);

CREATE TABLE contact_tags (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (contact_id, tag)
);
CREATE INDEX contact_tags_tag ON contact_tags(workspace_id, tag, contact_id);
