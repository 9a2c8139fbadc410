-- name: insert_tag_vote(beatmap_id, tag_id, user_id, now)!
-- A user puts a tag on a beatmap (again: nothing changes).
-- dialect: mysql
INSERT INTO beatmap_tag_votes (beatmap_id, tag_id, user_id, created_at)
VALUES (:beatmap_id, :tag_id, :user_id, :now)
ON DUPLICATE KEY UPDATE created_at = created_at;
-- dialect: sqlite
INSERT INTO beatmap_tag_votes (beatmap_id, tag_id, user_id, created_at)
VALUES (:beatmap_id, :tag_id, :user_id, :now)
ON CONFLICT (beatmap_id, tag_id, user_id) DO NOTHING;

-- name: delete_tag_vote(beatmap_id, tag_id, user_id)!
-- A user takes their tag off a beatmap.
DELETE FROM beatmap_tag_votes
WHERE beatmap_id = :beatmap_id AND tag_id = :tag_id AND user_id = :user_id;

-- name: count_user_beatmap_scores(user_id, beatmap_id)$
-- Whether a user set any score on a beatmap (tagging needs one).
SELECT COUNT(*) FROM scores WHERE user_id = :user_id AND beatmap_id = :beatmap_id;

-- name: list_beatmap_tags()
-- Every tag players can put on beatmaps (GET tags), by id.
SELECT id, name, ruleset_id, description FROM beatmap_tags ORDER BY id;

-- name: find_beatmap_tag(id)^
-- One tag (a vote names it).
SELECT id, name, ruleset_id, description FROM beatmap_tags WHERE id = :id;

-- name: upsert_beatmap_tag(id, name, ruleset_id, description, now)!
-- The operator defines a tag or replaces the one with this id (its votes stay).
-- dialect: mysql
INSERT INTO beatmap_tags (id, name, ruleset_id, description, created_at, updated_at)
VALUES (:id, :name, :ruleset_id, :description, :now, :now)
ON DUPLICATE KEY UPDATE name = VALUES(name), ruleset_id = VALUES(ruleset_id),
                        description = VALUES(description), updated_at = VALUES(updated_at);
-- dialect: sqlite
INSERT INTO beatmap_tags (id, name, ruleset_id, description, created_at, updated_at)
VALUES (:id, :name, :ruleset_id, :description, :now, :now)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, ruleset_id = excluded.ruleset_id,
                               description = excluded.description,
                               updated_at = excluded.updated_at;
