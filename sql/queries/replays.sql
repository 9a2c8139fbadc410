-- name: mark_score_has_replay(score_id)!
-- Flag a score's replay as stored (called once its `.osr` is durably written).
UPDATE scores SET has_replay = 1 WHERE id = :score_id;

-- name: fetch_play_token(token_id)^
-- A score token's owner and the score that used it (BeginPlaySession checks it, S-RT-7).
SELECT id, user_id, beatmap_id, score_id FROM score_tokens WHERE id = :token_id;
