-- The dispatcher reads the unpublished events in id order. A partial index
-- holds only those, so the read does not walk entries of events already
-- published (on PostgreSQL, dead entries left by the updates that mark them).
CREATE INDEX outbox_publish_pending ON outbox(id) WHERE published_at IS NULL;
