-- name: insert_outbox(channel, payload, now)!
-- Queue a message in the caller's transaction.
INSERT INTO outbox (channel, payload, created_at) VALUES (:channel, :payload, :now);

-- name: delete_outbox(id)!
-- Forget a message once it is published.
DELETE FROM outbox WHERE id = :id;

-- name: count_outbox()$
-- How many messages wait to be published (the outbox depth metric).
SELECT COUNT(*) FROM outbox;

-- name: fetch_outbox_due(before, limit)
-- Messages still unpublished that were queued before a time, oldest first.
SELECT id, channel, payload FROM outbox WHERE created_at < :before ORDER BY id ASC LIMIT :limit;
