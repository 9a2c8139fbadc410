-- name: fetch_favourite_beatmapset_ids(user_id)
-- The ids of a user's favourite beatmapsets, newest first.
SELECT beatmapset_id FROM beatmapset_favourites WHERE user_id = :user_id
ORDER BY created_at DESC, beatmapset_id DESC;
