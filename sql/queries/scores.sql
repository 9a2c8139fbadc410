-- name: insert_score_token(user_id, beatmap_id, ruleset_id, beatmap_hash, version_hash, playlist_item_id, now)!
-- Issue a submission token for one play: a solo play (no playlist item) or one play of a
-- room's playlist item.
INSERT INTO score_tokens (user_id, beatmap_id, ruleset_id, beatmap_hash, version_hash,
                          playlist_item_id, created_at)
VALUES (:user_id, :beatmap_id, :ruleset_id, :beatmap_hash, :version_hash, :playlist_item_id,
        :now);

-- name: fetch_score_token(token_id, user_id, beatmap_id)^
-- A solo token selected by id, owner and beatmap together: a foreign or mismatched token, or
-- a playlist item's token, is absent. Only the columns the WHERE does not fix (each one costs
-- the driver a field description to parse, on every submission).
SELECT ruleset_id, beatmap_hash, created_at, score_id
FROM score_tokens
WHERE id = :token_id AND user_id = :user_id AND beatmap_id = :beatmap_id
  AND playlist_item_id IS NULL;

-- name: fetch_playlist_score_token(token_id, user_id, playlist_item_id)^
-- A playlist item's token selected by id, owner and item together.
SELECT id, user_id, beatmap_id, ruleset_id, beatmap_hash, created_at, score_id
FROM score_tokens
WHERE id = :token_id AND user_id = :user_id AND playlist_item_id = :playlist_item_id;

-- name: lock_score_token(token_id, user_id, beatmap_id)^
-- Lock the token row for the submitting transaction (S-SC-3), selected by id, owner and
-- beatmap, and read whether a score used it (the rest was read before the transaction; each
-- column of a result costs the driver a field description to parse). SQLite has no row
-- locks: a no-op write takes the database write lock first, which serialises submitters the
-- same way.
-- dialect: mysql
SELECT score_id
FROM score_tokens WHERE id = :token_id AND user_id = :user_id AND beatmap_id = :beatmap_id
FOR UPDATE;
-- dialect: sqlite
UPDATE score_tokens SET score_id = score_id
WHERE id = :token_id AND user_id = :user_id AND beatmap_id = :beatmap_id
RETURNING score_id;

-- name: link_score_token(token_id, score_id)!
-- Mark the token used by the score it produced (the unique index forbids a second).
UPDATE score_tokens SET score_id = :score_id WHERE id = :token_id AND score_id IS NULL;

-- name: ensure_user_statistics(user_id, ruleset)!
-- Create a ruleset's zeroed statistics row when the user has none yet (relax rulesets).
-- dialect: mysql
INSERT INTO user_statistics (user_id, ruleset) VALUES (:user_id, :ruleset)
ON DUPLICATE KEY UPDATE user_id = user_id;
-- dialect: sqlite
INSERT OR IGNORE INTO user_statistics (user_id, ruleset) VALUES (:user_id, :ruleset);

-- name: lock_user_statistics(user_id, ruleset)$
-- Lock a user's statistics row so concurrent submissions by one user apply one at a time;
-- the user id when the row exists, else no row.
-- dialect: mysql
SELECT user_id FROM user_statistics WHERE user_id = :user_id AND ruleset = :ruleset FOR UPDATE;
-- dialect: sqlite
UPDATE user_statistics SET play_count = play_count WHERE user_id = :user_id AND ruleset = :ruleset
RETURNING user_id;

-- name: insert_score(user_id, beatmap_id, ruleset_id, ruleset, token_id, build_id, passed, ranked, play_counted, total_score, total_score_without_mods, accuracy, max_combo, grade, mods, mods_key, statistics, maximum_statistics, pp, pp_version, started_at, ended_at)!
-- Store a submitted score.
INSERT INTO scores (user_id, beatmap_id, ruleset_id, ruleset, token_id, build_id, passed, ranked,
                    play_counted, total_score, total_score_without_mods, accuracy, max_combo,
                    `rank`, mods, mods_key, statistics, maximum_statistics, pp, pp_version,
                    started_at, ended_at)
VALUES (:user_id, :beatmap_id, :ruleset_id, :ruleset, :token_id, :build_id, :passed, :ranked,
        :play_counted, :total_score, :total_score_without_mods, :accuracy, :max_combo, :grade,
        :mods, :mods_key, :statistics, :maximum_statistics, :pp, :pp_version, :started_at,
        :ended_at);

-- name: fetch_score(score_id)^
-- One score by id.
SELECT id, user_id, beatmap_id, ruleset_id, ruleset, token_id, build_id, passed, ranked,
       play_counted, total_score, total_score_without_mods, accuracy, max_combo, `rank` AS grade,
       mods, mods_key, statistics, maximum_statistics, pp, pp_version, started_at, ended_at,
       has_replay
FROM scores WHERE id = :score_id;

-- name: fetch_score_best(beatmap_id, ruleset, user_id)^
-- A user's leaderboard best on a beatmap, with its grade.
SELECT b.score_id, b.total_score, s.`rank` AS grade
FROM score_bests b JOIN scores s ON s.id = b.score_id
WHERE b.beatmap_id = :beatmap_id AND b.ruleset = :ruleset AND b.user_id = :user_id;

-- name: fetch_play_bests(beatmap_id, ruleset, user_id)
-- What a submission compares a play with, in one round trip: the user's leaderboard best on
-- the beatmap with its grade (kind 'best') and their highest pp on it (kind 'pp'); each row
-- only when it exists.
SELECT 'best' AS kind, b.score_id, b.total_score, s.`rank` AS grade, NULL AS pp
FROM score_bests b JOIN scores s ON s.id = b.score_id
WHERE b.beatmap_id = :beatmap_id AND b.ruleset = :ruleset AND b.user_id = :user_id
UNION ALL
SELECT 'pp' AS kind, score_id, NULL, NULL, pp FROM score_pp_bests
WHERE user_id = :user_id AND ruleset = :ruleset AND beatmap_id = :beatmap_id;

-- name: upsert_score_best(beatmap_id, ruleset, user_id, score_id, total_score)!
-- Make a score the user's leaderboard best on its beatmap.
-- dialect: mysql
INSERT INTO score_bests (beatmap_id, ruleset, user_id, score_id, total_score)
VALUES (:beatmap_id, :ruleset, :user_id, :score_id, :total_score)
ON DUPLICATE KEY UPDATE score_id = VALUES(score_id), total_score = VALUES(total_score);
-- dialect: sqlite
INSERT INTO score_bests (beatmap_id, ruleset, user_id, score_id, total_score)
VALUES (:beatmap_id, :ruleset, :user_id, :score_id, :total_score)
ON CONFLICT (beatmap_id, ruleset, user_id) DO UPDATE SET score_id = excluded.score_id,
                                                         total_score = excluded.total_score;

-- name: fetch_pp_best(user_id, ruleset, beatmap_id)^
-- A user's highest-pp score on a beatmap.
SELECT score_id, pp FROM score_pp_bests
WHERE user_id = :user_id AND ruleset = :ruleset AND beatmap_id = :beatmap_id;

-- name: upsert_pp_best(user_id, ruleset, beatmap_id, score_id, pp)!
-- Make a score the user's highest-pp play on its beatmap.
-- dialect: mysql
INSERT INTO score_pp_bests (user_id, ruleset, beatmap_id, score_id, pp)
VALUES (:user_id, :ruleset, :beatmap_id, :score_id, :pp)
ON DUPLICATE KEY UPDATE score_id = VALUES(score_id), pp = VALUES(pp);
-- dialect: sqlite
INSERT INTO score_pp_bests (user_id, ruleset, beatmap_id, score_id, pp)
VALUES (:user_id, :ruleset, :beatmap_id, :score_id, :pp)
ON CONFLICT (user_id, ruleset, beatmap_id) DO UPDATE SET score_id = excluded.score_id,
                                                         pp = excluded.pp;

-- name: fetch_top_pp(user_id, ruleset)
-- A user's best plays by pp (one per beatmap), highest first, with accuracy: the weighted
-- pp and accuracy read the first 1000.
SELECT b.pp, s.accuracy FROM score_pp_bests b JOIN scores s ON s.id = b.score_id
WHERE b.user_id = :user_id AND b.ruleset = :ruleset
ORDER BY b.pp DESC, b.score_id ASC LIMIT 1000;

-- name: apply_play_to_statistics(user_id, ruleset, ranked_score_delta, total_score, play_count, play_time, total_hits, max_combo, pp, hit_accuracy, ssh, ss, sh, s, a, count_300, count_100, count_50, count_miss)!
-- Add one play to a user's statistics (the row is locked; counters add in SQL). pp and
-- hit_accuracy are the new weighted values, or NULL to keep them (the play changed no pp best).
UPDATE user_statistics SET
    ranked_score = ranked_score + :ranked_score_delta,
    total_score = total_score + :total_score,
    play_count = play_count + :play_count,
    play_time = play_time + :play_time,
    total_hits = total_hits + :total_hits,
    maximum_combo = CASE WHEN maximum_combo > :max_combo THEN maximum_combo ELSE :max_combo END,
    pp = COALESCE(:pp, pp),
    hit_accuracy = COALESCE(:hit_accuracy, hit_accuracy),
    count_ssh = count_ssh + :ssh,
    count_ss = count_ss + :ss,
    count_sh = count_sh + :sh,
    count_s = count_s + :s,
    count_a = count_a + :a,
    count_300 = count_300 + :count_300,
    count_100 = count_100 + :count_100,
    count_50 = count_50 + :count_50,
    count_miss = count_miss + :count_miss
WHERE user_id = :user_id AND ruleset = :ruleset;

-- name: add_beatmap_plays(beatmap_id, plays, passes)!
-- Count plays (and passes) on the beatmap.
UPDATE beatmaps SET playcount = playcount + :plays, passcount = passcount + :passes
WHERE id = :beatmap_id;

-- name: fetch_board_floor(beatmap_id, ruleset, last)$
-- The total of a beatmap's `last`-th best (0-based) among unrestricted players, walking the
-- board index from the top: a page's lowest total, read without touching the rest of the
-- board. None when the board is shorter.
SELECT b.total_score FROM score_bests b JOIN users u ON u.id = b.user_id
WHERE b.beatmap_id = :beatmap_id AND b.ruleset = :ruleset AND u.is_restricted = 0
ORDER BY b.total_score DESC LIMIT 1 OFFSET :last;

-- name: fetch_board_page(beatmap_id, ruleset, floor, limit)
-- The first `limit` unrestricted bests on a beatmap at or above a total, best first (ties:
-- the earlier score); with the page's floor this is a range read of the page alone.
SELECT b.score_id, b.total_score FROM score_bests b JOIN users u ON u.id = b.user_id
WHERE b.beatmap_id = :beatmap_id AND b.ruleset = :ruleset AND u.is_restricted = 0
  AND b.total_score >= :floor
ORDER BY b.total_score DESC, b.score_id ASC LIMIT :limit;

-- name: fetch_board_chunk(beatmap_id, ruleset, after_user_id, limit)
-- Up to `limit` unrestricted bests on a beatmap in user id order after `after_user_id`
-- (the primary key's order): the Redis board is rebuilt from these, a chunk at a time.
SELECT b.user_id, b.score_id, b.total_score FROM score_bests b JOIN users u ON u.id = b.user_id
WHERE b.beatmap_id = :beatmap_id AND b.ruleset = :ruleset AND b.user_id > :after_user_id
  AND u.is_restricted = 0
ORDER BY b.user_id LIMIT :limit;

-- name: count_board(beatmap_id, ruleset, coarse)$
-- How many unrestricted users have a best on a beatmap: the sum of the board's coarse blocks.
SELECT COALESCE(SUM(entries), 0) FROM score_board_counts
WHERE beatmap_id = :beatmap_id AND ruleset = :ruleset AND grain = :coarse;

-- name: count_board_above(beatmap_id, ruleset, total_score, score_id, coarse, coarse_block, fine, fine_block, fine_end, ceiling)$
-- How many unrestricted bests on a beatmap rank above a score (its position is this + 1):
-- the coarse blocks above the score's, the fine blocks above the score's inside its coarse
-- block (fine blocks fine_block < block < fine_end), and the bests above it in its own fine
-- block (totals below `ceiling`), the one part that reads score_bests.
SELECT (SELECT COALESCE(SUM(entries), 0) FROM score_board_counts
        WHERE beatmap_id = :beatmap_id AND ruleset = :ruleset AND grain = :coarse
          AND block > :coarse_block)
     + (SELECT COALESCE(SUM(entries), 0) FROM score_board_counts
        WHERE beatmap_id = :beatmap_id AND ruleset = :ruleset AND grain = :fine
          AND block > :fine_block AND block < :fine_end)
     + (SELECT COUNT(*) FROM score_bests b JOIN users u ON u.id = b.user_id
        WHERE b.beatmap_id = :beatmap_id AND b.ruleset = :ruleset AND u.is_restricted = 0
          AND b.total_score >= :total_score AND b.total_score < :ceiling
          AND (b.total_score > :total_score
               OR (b.total_score = :total_score AND b.score_id < :score_id)));

-- name: move_board_count(beatmap_id, ruleset, user_id, old_total, new_total, coarse, fine)!
-- A player's best moved on a board, from old_total (-1: none before) to new_total (-1: none
-- now): its blocks at both grains lose and gain the entry. Nothing moves for a restricted
-- player, who is on no board.
-- dialect: mysql
INSERT INTO score_board_counts (beatmap_id, ruleset, grain, block, entries)
SELECT :beatmap_id, :ruleset, d.grain, d.total >> d.grain, d.delta
FROM (SELECT :coarse AS grain, :new_total AS total, 1 AS delta
      UNION ALL SELECT :fine, :new_total, 1
      UNION ALL SELECT :coarse, :old_total, -1
      UNION ALL SELECT :fine, :old_total, -1) d
JOIN users u ON u.id = :user_id
WHERE u.is_restricted = 0 AND d.total >= 0
ON DUPLICATE KEY UPDATE entries = entries + VALUES(entries);
-- dialect: sqlite
INSERT INTO score_board_counts (beatmap_id, ruleset, grain, block, entries)
SELECT :beatmap_id, :ruleset, d.grain, d.total >> d.grain, d.delta
FROM (SELECT :coarse AS grain, :new_total AS total, 1 AS delta
      UNION ALL SELECT :fine, :new_total, 1
      UNION ALL SELECT :coarse, :old_total, -1
      UNION ALL SELECT :fine, :old_total, -1) d
JOIN users u ON u.id = :user_id
WHERE u.is_restricted = 0 AND d.total >= 0
ON CONFLICT (beatmap_id, ruleset, grain, block) DO UPDATE SET entries = entries + excluded.entries;

-- name: delete_board_counts(beatmap_id, ruleset)!
-- Forget a board's block counts (before they are counted again from score_bests).
DELETE FROM score_board_counts WHERE beatmap_id = :beatmap_id AND ruleset = :ruleset;

-- name: insert_board_counts(beatmap_id, ruleset, coarse, fine)!
-- Count a board's unrestricted bests per block at both grains from score_bests (recalc, and
-- bests written outside the repository). Linear in the board: never on a request path.
INSERT INTO score_board_counts (beatmap_id, ruleset, grain, block, entries)
SELECT b.beatmap_id, b.ruleset, g.grain, b.total_score >> g.grain, COUNT(*)
FROM score_bests b
JOIN (SELECT :coarse AS grain UNION ALL SELECT :fine) g
JOIN users u ON u.id = b.user_id
WHERE b.beatmap_id = :beatmap_id AND b.ruleset = :ruleset AND u.is_restricted = 0
GROUP BY b.beatmap_id, b.ruleset, g.grain, b.total_score >> g.grain;

-- name: fetch_user_scores_on_beatmap(beatmap_id, ruleset, user_id)
-- Every ranked score of a user on a beatmap, best first.
SELECT id AS score_id FROM scores
WHERE beatmap_id = :beatmap_id AND ruleset = :ruleset AND user_id = :user_id AND ranked = 1
ORDER BY total_score DESC, id ASC LIMIT 100;

-- name: fetch_user_best_ids(user_id, ruleset, limit, offset)
-- A user's top plays by pp (one per beatmap).
SELECT score_id FROM score_pp_bests WHERE user_id = :user_id AND ruleset = :ruleset
ORDER BY pp DESC, score_id ASC LIMIT :limit OFFSET :offset;

-- name: fetch_user_recent_ids(user_id, ruleset, since, include_fails, limit, offset)
-- A user's plays of the last day, newest first; fails only when asked for.
SELECT id AS score_id FROM scores
WHERE user_id = :user_id AND ruleset = :ruleset AND ended_at >= :since
  AND (passed = 1 OR :include_fails = 1)
ORDER BY id DESC LIMIT :limit OFFSET :offset;

-- name: fetch_user_first_ids(user_id, ruleset, limit, offset)
-- The bests of a user that are first place on their beatmap.
SELECT b.score_id FROM score_bests b
WHERE b.user_id = :user_id AND b.ruleset = :ruleset AND NOT EXISTS (
    SELECT 1 FROM score_bests o JOIN users u ON u.id = o.user_id
    WHERE o.beatmap_id = b.beatmap_id AND o.ruleset = b.ruleset AND u.is_restricted = 0
      AND (o.total_score > b.total_score
           OR (o.total_score = b.total_score AND o.score_id < b.score_id)))
ORDER BY b.score_id DESC LIMIT :limit OFFSET :offset;

-- name: fetch_user_pinned_ids(user_id, ruleset, limit, offset)
-- A user's pinned scores in their chosen order.
SELECT score_id FROM score_pins WHERE user_id = :user_id AND ruleset = :ruleset
ORDER BY display_order ASC, score_id ASC LIMIT :limit OFFSET :offset;

-- name: count_user_scores(user_id, ruleset, since)^
-- Counts for a profile, as osu-web's ProfileCount: top plays (one per beatmap with pp),
-- first places, pins of scores on a known beatmap, and passes since a time (recent).
SELECT (SELECT COUNT(*) FROM score_pp_bests WHERE user_id = :user_id AND ruleset = :ruleset) AS best,
       (SELECT COUNT(*) FROM score_pins p JOIN scores s ON s.id = p.score_id
          JOIN beatmaps m ON m.id = s.beatmap_id
        WHERE p.user_id = :user_id AND p.ruleset = :ruleset) AS pinned,
       (SELECT COUNT(*) FROM score_bests b
        WHERE b.user_id = :user_id AND b.ruleset = :ruleset AND NOT EXISTS (
            SELECT 1 FROM score_bests o JOIN users u ON u.id = o.user_id
            WHERE o.beatmap_id = b.beatmap_id AND o.ruleset = b.ruleset AND u.is_restricted = 0
              AND (o.total_score > b.total_score
                   OR (o.total_score = b.total_score AND o.score_id < b.score_id)))) AS firsts,
       (SELECT COUNT(*) FROM scores s JOIN beatmaps m ON m.id = s.beatmap_id
        WHERE s.user_id = :user_id AND s.ruleset = :ruleset AND s.ended_at >= :since
          AND s.passed = 1) AS recent;

-- name: fetch_pin_order_max(user_id, ruleset)$
-- The largest display order among a user's pins of one ruleset.
SELECT MAX(display_order) FROM score_pins WHERE user_id = :user_id AND ruleset = :ruleset;

-- name: insert_score_pin(user_id, score_id, ruleset, display_order)!
-- Pin a score (pinning twice keeps the first pin).
-- dialect: mysql
INSERT INTO score_pins (user_id, score_id, ruleset, display_order)
VALUES (:user_id, :score_id, :ruleset, :display_order)
ON DUPLICATE KEY UPDATE user_id = user_id;
-- dialect: sqlite
INSERT OR IGNORE INTO score_pins (user_id, score_id, ruleset, display_order)
VALUES (:user_id, :score_id, :ruleset, :display_order);

-- name: delete_score_pin(user_id, score_id)!
-- Unpin a score.
DELETE FROM score_pins WHERE user_id = :user_id AND score_id = :score_id;

-- name: fetch_score_pin(user_id, score_id)^
-- One pin.
SELECT user_id, score_id, ruleset, display_order FROM score_pins
WHERE user_id = :user_id AND score_id = :score_id;

-- name: set_score_pin_order(user_id, score_id, display_order)!
-- Move a pin.
UPDATE score_pins SET display_order = :display_order
WHERE user_id = :user_id AND score_id = :score_id;

-- name: shift_score_pins(user_id, ruleset, from_order)!
-- Make room at a position by moving later pins down one.
UPDATE score_pins SET display_order = display_order + 1
WHERE user_id = :user_id AND ruleset = :ruleset AND display_order >= :from_order;

-- name: fetch_rankings_performance(ruleset, limit, offset)
-- Unrestricted users with pp in a ruleset, most pp first.
SELECT s.user_id FROM user_statistics s JOIN users u ON u.id = s.user_id
WHERE s.ruleset = :ruleset AND s.pp > 0 AND u.is_restricted = 0
ORDER BY s.pp DESC, s.user_id ASC LIMIT :limit OFFSET :offset;

-- name: fetch_rankings_performance_country(ruleset, country_code, limit, offset)
-- One country's users with pp in a ruleset, most pp first.
SELECT s.user_id FROM user_statistics s JOIN users u ON u.id = s.user_id
WHERE s.ruleset = :ruleset AND s.pp > 0 AND u.is_restricted = 0 AND u.country_code = :country_code
ORDER BY s.pp DESC, s.user_id ASC LIMIT :limit OFFSET :offset;

-- name: fetch_rankings_score(ruleset, limit, offset)
-- Unrestricted users with ranked score in a ruleset, most first.
SELECT s.user_id FROM user_statistics s JOIN users u ON u.id = s.user_id
WHERE s.ruleset = :ruleset AND s.ranked_score > 0 AND u.is_restricted = 0
ORDER BY s.ranked_score DESC, s.user_id ASC LIMIT :limit OFFSET :offset;

-- name: fetch_rankings_score_country(ruleset, country_code, limit, offset)
-- One country's users with ranked score in a ruleset, most first.
SELECT s.user_id FROM user_statistics s JOIN users u ON u.id = s.user_id
WHERE s.ruleset = :ruleset AND s.ranked_score > 0 AND u.is_restricted = 0
  AND u.country_code = :country_code
ORDER BY s.ranked_score DESC, s.user_id ASC LIMIT :limit OFFSET :offset;

-- name: count_rankings_performance(ruleset)$
-- How many users the performance ranking holds.
SELECT COUNT(*) FROM user_statistics s JOIN users u ON u.id = s.user_id
WHERE s.ruleset = :ruleset AND s.pp > 0 AND u.is_restricted = 0;

-- name: fetch_country_rankings(ruleset, limit, offset)
-- Countries by total pp of their ranked players.
SELECT u.country_code AS code, COUNT(*) AS active_users, SUM(s.play_count) AS play_count,
       SUM(s.ranked_score) AS ranked_score, SUM(s.pp) AS performance
FROM user_statistics s JOIN users u ON u.id = s.user_id
WHERE s.ruleset = :ruleset AND s.pp > 0 AND u.is_restricted = 0 AND u.country_code != 'XX'
GROUP BY u.country_code ORDER BY performance DESC, code ASC LIMIT :limit OFFSET :offset;

-- name: snapshot_rank_history(ruleset, day)!
-- Record today's global rank of every ranked user of a ruleset (re-running replaces it).
-- dialect: mysql
INSERT INTO rank_history (user_id, ruleset, day, `rank`)
SELECT user_id, :ruleset, :day, ROW_NUMBER() OVER (ORDER BY pp DESC, user_id ASC) FROM (
    SELECT s.user_id, s.pp FROM user_statistics s JOIN users u ON u.id = s.user_id
    WHERE s.ruleset = :ruleset AND s.pp > 0 AND u.is_restricted = 0) ranked_users
ON DUPLICATE KEY UPDATE `rank` = VALUES(`rank`);
-- dialect: sqlite
INSERT INTO rank_history (user_id, ruleset, day, `rank`)
SELECT user_id, :ruleset, :day, ROW_NUMBER() OVER (ORDER BY pp DESC, user_id ASC) FROM (
    SELECT s.user_id, s.pp FROM user_statistics s JOIN users u ON u.id = s.user_id
    WHERE s.ruleset = :ruleset AND s.pp > 0 AND u.is_restricted = 0) ranked_users
WHERE true
ON CONFLICT (user_id, ruleset, day) DO UPDATE SET `rank` = excluded.`rank`;

-- name: fetch_rank_history(user_id, ruleset, since)
-- A user's daily ranks since a day, oldest first.
SELECT day, `rank` FROM rank_history
WHERE user_id = :user_id AND ruleset = :ruleset AND day >= :since ORDER BY day ASC;

-- name: update_score_pp(score_id, pp, pp_version)!
-- Replace a score's pp and the algorithm version that produced it (recalc).
UPDATE scores SET pp = :pp, pp_version = :pp_version WHERE id = :score_id;

-- name: fetch_user_beatmap_scores(user_id, ruleset, beatmap_id)
-- Every score of a user on a beatmap in a ruleset (recalc rebuilds the bests from these).
SELECT id, ranked, total_score, pp FROM scores
WHERE user_id = :user_id AND ruleset = :ruleset AND beatmap_id = :beatmap_id
ORDER BY id ASC;

-- name: delete_score_best(beatmap_id, ruleset, user_id)!
-- Drop a user's leaderboard best on a beatmap (no ranked score is left).
DELETE FROM score_bests WHERE beatmap_id = :beatmap_id AND ruleset = :ruleset AND user_id = :user_id;

-- name: delete_pp_best(user_id, ruleset, beatmap_id)!
-- Drop a user's pp best on a beatmap (no score with pp is left).
DELETE FROM score_pp_bests WHERE user_id = :user_id AND ruleset = :ruleset AND beatmap_id = :beatmap_id;

-- name: fetch_user_bests_summary(user_id, ruleset)
-- A user's leaderboard bests with grade and beatmap status (ranked score, grade counts).
SELECT b.total_score, s.`rank` AS grade, m.status
FROM score_bests b JOIN scores s ON s.id = b.score_id JOIN beatmaps m ON m.id = b.beatmap_id
WHERE b.user_id = :user_id AND b.ruleset = :ruleset;

-- name: set_derived_statistics(user_id, ruleset, ranked_score, pp, hit_accuracy, ssh, ss, sh, s, a)!
-- Overwrite the statistics that derive from bests (recalc).
UPDATE user_statistics SET ranked_score = :ranked_score, pp = :pp, hit_accuracy = :hit_accuracy,
    count_ssh = :ssh, count_ss = :ss, count_sh = :sh, count_s = :s, count_a = :a
WHERE user_id = :user_id AND ruleset = :ruleset;

-- name: count_board_above_country(beatmap_id, ruleset, total_score, score_id, country_code)$
-- How many bests of one country's players on a beatmap rank above a score.
SELECT COUNT(*) FROM score_bests b JOIN users u ON u.id = b.user_id
WHERE b.beatmap_id = :beatmap_id AND b.ruleset = :ruleset AND u.is_restricted = 0
  AND u.country_code = :country_code
  AND (b.total_score > :total_score OR (b.total_score = :total_score AND b.score_id < :score_id));

-- name: fetch_user_plays(user_id, ruleset)
-- Every play of a user in a ruleset with its beatmap's status and length (recalc sums the
-- play counters from these); a play whose beatmap is gone keeps null status and length.
SELECT s.id, s.ruleset_id, s.passed, s.play_counted, s.total_score, s.max_combo, s.mods,
       s.statistics, s.maximum_statistics, s.started_at, s.ended_at,
       m.status AS beatmap_status, m.total_length
FROM scores s LEFT JOIN beatmaps m ON m.id = s.beatmap_id
WHERE s.user_id = :user_id AND s.ruleset = :ruleset
ORDER BY s.id ASC;

-- name: set_score_play_counted(score_id, play_counted)!
-- Record whether a play counts for play tracking (recalc, when the rule judges it anew).
UPDATE scores SET play_counted = :play_counted WHERE id = :score_id;

-- name: set_play_totals(user_id, ruleset, play_count, total_score, total_hits, maximum_combo, play_time, count_300, count_100, count_50, count_miss)!
-- Overwrite the statistics summed from every play (recalc).
UPDATE user_statistics SET play_count = :play_count, total_score = :total_score,
    total_hits = :total_hits, maximum_combo = :maximum_combo, play_time = :play_time,
    count_300 = :count_300, count_100 = :count_100, count_50 = :count_50,
    count_miss = :count_miss
WHERE user_id = :user_id AND ruleset = :ruleset;
