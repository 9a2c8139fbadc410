-- The daily challenge (osu-web multiplayer_daily_challenge_queue_items and
-- daily_challenge_user_stats): one queued playlist item per UTC day, the room the scheduled
-- job opened for it, and each user's streaks and placements.

-- dialect: mysql
-- Mods are JSON arrays of `{"acronym", "settings"}`. `room_id` null until the job opened the
-- day's room; `stats_done` once the day's user stats were computed after it ended.
CREATE TABLE daily_challenge_queue (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    challenge_date DATE NOT NULL,
    beatmap_id INT NOT NULL,
    ruleset_id SMALLINT NOT NULL,
    required_mods TEXT NOT NULL,
    allowed_mods TEXT NOT NULL,
    room_id BIGINT NULL,
    stats_done TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE daily_challenge_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    challenge_date DATE NOT NULL,
    beatmap_id INT NOT NULL,
    ruleset_id SMALLINT NOT NULL,
    required_mods TEXT NOT NULL,
    allowed_mods TEXT NOT NULL,
    room_id BIGINT NULL,
    stats_done TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL
);

-- dialect: all
-- osu-web DailyChallengeUserStats: `last_update` is the start of the last day played,
-- `last_weekly_streak` the Monday of the last week played.
CREATE TABLE daily_challenge_user_stats (
    user_id INT NOT NULL PRIMARY KEY,
    daily_streak_best INT NOT NULL DEFAULT 0,
    daily_streak_current INT NOT NULL DEFAULT 0,
    last_update DATETIME NULL,
    last_weekly_streak DATETIME NULL,
    playcount INT NOT NULL DEFAULT 0,
    top_10p_placements INT NOT NULL DEFAULT 0,
    top_50p_placements INT NOT NULL DEFAULT 0,
    weekly_streak_best INT NOT NULL DEFAULT 0,
    weekly_streak_current INT NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX daily_challenge_queue_date ON daily_challenge_queue (challenge_date);
CREATE INDEX rooms_category ON rooms (category, ends_at);
