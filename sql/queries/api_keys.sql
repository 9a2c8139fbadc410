-- name: insert_api_key(user_id, key_hash, app_name, app_url, now)!
-- Store a user's v1 key by its digest (the primary key refuses a second one).
INSERT INTO api_keys (user_id, key_hash, app_name, app_url, created_at)
VALUES (:user_id, :key_hash, :app_name, :app_url, :now);

-- name: fetch_api_key_user(key_hash)$
-- The user a v1 key digest belongs to.
SELECT user_id FROM api_keys WHERE key_hash = :key_hash;

-- name: fetch_api_key_exists(user_id)$
-- Whether a user holds a v1 key.
SELECT COUNT(*) FROM api_keys WHERE user_id = :user_id;

-- name: delete_api_key(user_id)!
-- Revoke a user's v1 key.
DELETE FROM api_keys WHERE user_id = :user_id;
