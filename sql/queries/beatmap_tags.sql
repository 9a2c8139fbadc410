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
