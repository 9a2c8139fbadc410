-- name: fetch_spotlights()
-- Every spotlight, newest first.
SELECT id, name, type, mode_specific, start_date, end_date FROM spotlights ORDER BY id DESC;

-- name: fetch_spotlight_set_ids(spotlight_id, ruleset_id)
-- The beatmapsets of a spotlight in one ruleset.
SELECT beatmapset_id FROM spotlight_beatmapsets
WHERE spotlight_id = :spotlight_id AND ruleset_id = :ruleset_id ORDER BY beatmapset_id;

-- name: fetch_spotlight_ranking(spotlight_id, ruleset_id, starts, ends)
-- Players of a spotlight's beatmaps in one ruleset, by the sum of their best total score on
-- each between its dates (ties: the lower user id); at most 50, as osu-web shows.
SELECT best.user_id, SUM(best.top) AS total, COUNT(*) AS beatmaps FROM (
    SELECT s.user_id, s.beatmap_id, MAX(s.total_score) AS top
    FROM scores s
    JOIN beatmaps b ON b.id = s.beatmap_id
    JOIN spotlight_beatmapsets sb ON sb.beatmapset_id = b.beatmapset_id
    JOIN users u ON u.id = s.user_id
    WHERE sb.spotlight_id = :spotlight_id AND sb.ruleset_id = :ruleset_id
      AND s.ruleset_id = :ruleset_id AND s.ranked = 1 AND s.passed = 1
      AND u.is_restricted = 0 AND s.ended_at >= :starts AND s.ended_at < :ends
    GROUP BY s.user_id, s.beatmap_id
) best
GROUP BY best.user_id ORDER BY total DESC, best.user_id ASC LIMIT 50;

-- name: fetch_kudosu_ranking(limit, offset)
-- Users by kudosu received (those with any), most first.
SELECT h.receiver_id AS user_id, SUM(h.amount) AS total FROM kudosu_history h
JOIN users u ON u.id = h.receiver_id WHERE u.is_restricted = 0
GROUP BY h.receiver_id ORDER BY total DESC, h.receiver_id ASC LIMIT :limit OFFSET :offset;
