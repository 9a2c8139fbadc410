-- name: insert_outbox(channel, payload, now)!
-- Queue a message in the caller's transaction.
INSERT INTO outbox (channel, payload, created_at) VALUES (:channel, :payload, :now);

-- name: delete_outbox(id)!
-- Forget a message once it is published.
DELETE FROM outbox WHERE id = :id;

-- name: delete_outbox_many(ids)!
-- Forget several published messages at once; `ids` is a JSON array of ids.
-- dialect: mysql
DELETE FROM outbox
WHERE id IN (SELECT j.id FROM JSON_TABLE(:ids, '$[*]' COLUMNS (id BIGINT PATH '$')) AS j);
-- dialect: sqlite
DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(:ids));

-- name: count_outbox()$
-- How many messages wait to be published (the outbox depth metric).
SELECT COUNT(*) FROM outbox;

-- name: fetch_outbox_due(before, limit)
-- Messages still unpublished that were queued before a time, oldest first.
SELECT id, channel, payload FROM outbox WHERE created_at < :before ORDER BY id ASC LIMIT :limit;
