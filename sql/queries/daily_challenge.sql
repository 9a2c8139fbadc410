-- name: insert_daily_challenge(challenge_date, beatmap_id, ruleset_id, required_mods, allowed_mods, now)!
-- Queue a day's challenge; the unique index refuses a second one for the same day.
INSERT INTO daily_challenge_queue (challenge_date, beatmap_id, ruleset_id, required_mods,
                                   allowed_mods, created_at)
VALUES (:challenge_date, :beatmap_id, :ruleset_id, :required_mods, :allowed_mods, :now);

-- name: fetch_daily_challenge(challenge_date)^
-- The challenge queued for one day.
SELECT id, challenge_date, beatmap_id, ruleset_id, required_mods, allowed_mods, room_id, stats_done
FROM daily_challenge_queue WHERE challenge_date = :challenge_date;

-- name: fetch_daily_challenges_from(from_date)
-- The challenges of a day and the days after it, in date order.
SELECT id, challenge_date, beatmap_id, ruleset_id, required_mods, allowed_mods, room_id, stats_done
FROM daily_challenge_queue WHERE challenge_date >= :from_date ORDER BY challenge_date;

-- name: set_daily_challenge_room(id, room_id)!
-- Record the room opened for a queued challenge (only once).
UPDATE daily_challenge_queue SET room_id = :room_id WHERE id = :id AND room_id IS NULL;

-- name: set_daily_challenge_stats_done(id)!
-- Mark a day's user stats computed (rowcount 0: another run already did).
UPDATE daily_challenge_queue SET stats_done = 1 WHERE id = :id AND stats_done = 0;

-- name: fetch_active_daily_challenge_rooms(now)
-- Open daily challenge rooms, oldest first (osu-server-spectator GetActiveDailyChallengeRoomsAsync).
SELECT id FROM rooms
WHERE category = 'daily_challenge' AND starts_at <= :now AND ends_at > :now
ORDER BY id;

-- name: fetch_item_high_scores(playlist_item_id)
-- Each user's best on an item with a positive total, highest first (osu-web highScores()).
SELECT user_id, total_score FROM room_item_user_best
WHERE playlist_item_id = :playlist_item_id AND score_id IS NOT NULL AND total_score > 0
ORDER BY total_score DESC, score_id ASC;

-- name: fetch_daily_challenge_user_stats(user_id)^
-- One user's daily challenge stats.
SELECT user_id, daily_streak_best, daily_streak_current, last_update, last_weekly_streak,
       playcount, top_10p_placements, top_50p_placements, weekly_streak_best,
       weekly_streak_current
FROM daily_challenge_user_stats WHERE user_id = :user_id;

-- name: fetch_lapsing_daily_challenge_user_stats(since_week, day_start)
-- Stats whose streaks may lapse today: a week played since the day before last week's
-- Monday, and no play recorded for this day (osu-web DailyChallengeUserStats::calculate).
SELECT user_id, daily_streak_best, daily_streak_current, last_update, last_weekly_streak,
       playcount, top_10p_placements, top_50p_placements, weekly_streak_best,
       weekly_streak_current
FROM daily_challenge_user_stats
WHERE last_weekly_streak >= :since_week AND last_update < :day_start;

-- name: ensure_daily_challenge_user_stats(user_id)!
-- Start a user's stats at zero if they have none.
-- dialect: mysql
INSERT INTO daily_challenge_user_stats (user_id) VALUES (:user_id)
ON DUPLICATE KEY UPDATE user_id = user_id;
-- dialect: sqlite
INSERT OR IGNORE INTO daily_challenge_user_stats (user_id) VALUES (:user_id);

-- name: save_daily_challenge_user_stats(user_id, daily_streak_best, daily_streak_current, last_update, last_weekly_streak, playcount, top_10p_placements, top_50p_placements, weekly_streak_best, weekly_streak_current)!
-- Store a user's recomputed stats.
UPDATE daily_challenge_user_stats
SET daily_streak_best = :daily_streak_best, daily_streak_current = :daily_streak_current,
    last_update = :last_update, last_weekly_streak = :last_weekly_streak,
    playcount = :playcount, top_10p_placements = :top_10p_placements,
    top_50p_placements = :top_50p_placements, weekly_streak_best = :weekly_streak_best,
    weekly_streak_current = :weekly_streak_current
WHERE user_id = :user_id;
