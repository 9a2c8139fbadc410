-- name: fetch_relations(user_id, kind)
-- A user's friends or blocks, oldest first, with whether a friendship is mutual.
SELECT r.target_id,
       CASE WHEN EXISTS (SELECT 1 FROM user_relations m
                         WHERE m.user_id = r.target_id AND m.target_id = r.user_id
                           AND m.kind = 'friend') THEN 1 ELSE 0 END AS mutual
FROM user_relations r
WHERE r.user_id = :user_id AND r.kind = :kind
ORDER BY r.created_at, r.target_id;

-- name: fetch_relation_kind(user_id, target_id)$
-- The kind of relation (friend or block) a user has to a target, if any.
SELECT kind FROM user_relations WHERE user_id = :user_id AND target_id = :target_id;

-- name: upsert_relation(user_id, target_id, kind, now)!
-- Make the target a friend or a block, replacing the other kind.
-- dialect: mysql
INSERT INTO user_relations (user_id, target_id, kind, created_at)
VALUES (:user_id, :target_id, :kind, :now)
ON DUPLICATE KEY UPDATE kind = VALUES(kind), created_at = VALUES(created_at);
-- dialect: sqlite
INSERT INTO user_relations (user_id, target_id, kind, created_at)
VALUES (:user_id, :target_id, :kind, :now)
ON CONFLICT (user_id, target_id) DO UPDATE SET kind = excluded.kind,
                                               created_at = excluded.created_at;

-- name: delete_relation(user_id, target_id, kind)!
-- Remove a friend or a block.
DELETE FROM user_relations WHERE user_id = :user_id AND target_id = :target_id AND kind = :kind;

-- name: count_relations(user_id, kind)$
-- How many friends or blocks a user has.
SELECT COUNT(*) FROM user_relations WHERE user_id = :user_id AND kind = :kind;
