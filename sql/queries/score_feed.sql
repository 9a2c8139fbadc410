-- name: fetch_latest_feed_ids(limit)
-- The newest ranked passes of unrestricted players (the scores firehose without a cursor).
SELECT s.id FROM scores s JOIN users u ON u.id = s.user_id
WHERE s.ranked = 1 AND s.passed = 1 AND u.is_restricted = 0
ORDER BY s.id DESC LIMIT :limit;

-- name: fetch_latest_feed_ids_in_ruleset(ruleset_id, limit)
-- The newest ranked passes in one ruleset.
SELECT s.id FROM scores s JOIN users u ON u.id = s.user_id
WHERE s.ranked = 1 AND s.passed = 1 AND u.is_restricted = 0 AND s.ruleset_id = :ruleset_id
ORDER BY s.id DESC LIMIT :limit;

-- name: fetch_feed_ids_after(after_id, limit)
-- Ranked passes after a score id, oldest first (the firehose's cursor).
SELECT s.id FROM scores s JOIN users u ON u.id = s.user_id
WHERE s.ranked = 1 AND s.passed = 1 AND u.is_restricted = 0 AND s.id > :after_id
ORDER BY s.id ASC LIMIT :limit;

-- name: fetch_feed_ids_after_in_ruleset(ruleset_id, after_id, limit)
-- Ranked passes in one ruleset after a score id, oldest first.
SELECT s.id FROM scores s JOIN users u ON u.id = s.user_id
WHERE s.ranked = 1 AND s.passed = 1 AND u.is_restricted = 0 AND s.ruleset_id = :ruleset_id
  AND s.id > :after_id
ORDER BY s.id ASC LIMIT :limit;

-- name: fetch_max_score_id()$
-- The newest score id (how old a firehose cursor is).
SELECT MAX(id) FROM scores;
