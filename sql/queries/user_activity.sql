-- name: add_user_beatmap_play(user_id, beatmap_id)!
-- Count one play of a beatmap by a user.
-- dialect: mysql
INSERT INTO beatmap_playcounts (user_id, beatmap_id, playcount) VALUES (:user_id, :beatmap_id, 1)
ON DUPLICATE KEY UPDATE playcount = playcount + 1;
-- dialect: sqlite
INSERT INTO beatmap_playcounts (user_id, beatmap_id, playcount) VALUES (:user_id, :beatmap_id, 1)
ON CONFLICT (user_id, beatmap_id) DO UPDATE SET playcount = playcount + 1;

-- name: delete_user_beatmap_plays(user_id)!
-- Forget a user's per-beatmap play counts (recalc recounts them).
DELETE FROM beatmap_playcounts WHERE user_id = :user_id;

-- name: recount_user_beatmap_plays(user_id)!
-- A user's per-beatmap play counts from their stored plays.
INSERT INTO beatmap_playcounts (user_id, beatmap_id, playcount)
SELECT user_id, beatmap_id, COUNT(*) FROM scores WHERE user_id = :user_id
GROUP BY user_id, beatmap_id;

-- name: fetch_most_played(user_id, limit, offset)
-- A user's most played beatmaps (most plays first, then the higher beatmap id).
SELECT p.beatmap_id, p.playcount FROM beatmap_playcounts p
JOIN beatmaps b ON b.id = p.beatmap_id
WHERE p.user_id = :user_id
ORDER BY p.playcount DESC, p.beatmap_id DESC LIMIT :limit OFFSET :offset;

-- name: insert_user_event(user_id, event_type, beatmap_id, beatmapset_id, epicfactor, details, display_html, now)!
-- Record one event of a user's activity.
INSERT INTO user_events
    (user_id, event_type, beatmap_id, beatmapset_id, epicfactor, details, display_html, created_at)
VALUES (:user_id, :event_type, :beatmap_id, :beatmapset_id, :epicfactor, :details, :display_html,
        :now);

-- name: fetch_user_events(user_id, limit, offset)
-- A user's events, newest first.
SELECT id, user_id, event_type, beatmap_id, beatmapset_id, epicfactor, details, display_html,
       created_at
FROM user_events WHERE user_id = :user_id ORDER BY id DESC LIMIT :limit OFFSET :offset;

-- name: fetch_user_events_since(user_id, since)
-- A user's events since a time, newest first (API v1's event_days).
SELECT id, user_id, event_type, beatmap_id, beatmapset_id, epicfactor, details, display_html,
       created_at
FROM user_events WHERE user_id = :user_id AND created_at >= :since ORDER BY id DESC LIMIT 100;

-- name: fetch_board_leaders(beatmap_id, ruleset)
-- The first two unrestricted bests on a beatmap (who held first place before a new one).
SELECT b.user_id, b.score_id, b.total_score FROM score_bests b JOIN users u ON u.id = b.user_id
WHERE b.beatmap_id = :beatmap_id AND b.ruleset = :ruleset AND u.is_restricted = 0
ORDER BY b.total_score DESC, b.score_id ASC LIMIT 2;

-- name: fetch_user_ranked_set_ids(user_id, limit, offset)
-- A mapper's ranked, approved and qualified sets, newest ranked first.
SELECT id FROM beatmapsets WHERE user_id = :user_id AND status IN (1, 2, 3)
ORDER BY ranked_date DESC, id DESC LIMIT :limit OFFSET :offset;

-- name: fetch_user_loved_set_ids(user_id, limit, offset)
-- A mapper's loved sets, newest loved first.
SELECT id FROM beatmapsets WHERE user_id = :user_id AND status = 4
ORDER BY ranked_date DESC, id DESC LIMIT :limit OFFSET :offset;

-- name: fetch_user_pending_set_ids(user_id, limit, offset)
-- A mapper's pending and work-in-progress sets, last updated first.
SELECT id FROM beatmapsets WHERE user_id = :user_id AND status IN (0, -1)
ORDER BY last_updated DESC, id DESC LIMIT :limit OFFSET :offset;

-- name: fetch_user_graveyard_set_ids(user_id, limit, offset)
-- A mapper's graveyarded sets, last updated first.
SELECT id FROM beatmapsets WHERE user_id = :user_id AND status = -2
ORDER BY last_updated DESC, id DESC LIMIT :limit OFFSET :offset;

-- name: fetch_user_guest_set_ids(user_id, limit, offset)
-- Others' sets with a scoreable difficulty this user made, newest ranked first.
SELECT s.id FROM beatmapsets s
WHERE s.user_id <> :user_id AND EXISTS (
    SELECT 1 FROM beatmaps b WHERE b.beatmapset_id = s.id AND b.user_id = :user_id
      AND b.status IN (1, 2, 3, 4))
ORDER BY s.ranked_date DESC, s.id DESC LIMIT :limit OFFSET :offset;

-- name: fetch_user_favourite_set_ids(user_id, limit, offset)
-- A user's favourite sets, newest favourite first.
SELECT beatmapset_id AS id FROM beatmapset_favourites WHERE user_id = :user_id
ORDER BY created_at DESC, beatmapset_id DESC LIMIT :limit OFFSET :offset;

-- name: fetch_kudosu_history(user_id, limit, offset)
-- Kudosu a user received, newest first.
SELECT h.id, h.giver_id, g.username AS giver_username, h.action, h.amount, h.model,
       h.post_url, h.post_title, h.details, h.created_at
FROM kudosu_history h LEFT JOIN users g ON g.id = h.giver_id
WHERE h.receiver_id = :user_id ORDER BY h.id DESC LIMIT :limit OFFSET :offset;
