-- Scores: submission tokens, scores, the bests that leaderboards and pp are built from,
-- pins and daily rank history. Redis leaderboards are rebuilt from score_bests.

-- dialect: mysql
-- One row per `POST beatmaps/{id}/solo/scores`; `score_id` links the token to the one
-- score it produced (unique: a token yields at most one score, reliability.md §2.4).
CREATE TABLE score_tokens (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id INT NOT NULL,
    beatmap_id INT NOT NULL,
    ruleset_id SMALLINT NOT NULL,
    beatmap_hash CHAR(32) NOT NULL,
    version_hash VARCHAR(64) NOT NULL,
    created_at DATETIME NOT NULL,
    score_id BIGINT NULL
);

-- `ruleset` is the statistics key ("osu", or "osurx" for relax when that setting is on);
-- `mods_key` the sorted acronyms joined with commas, for mod-filtered leaderboards. The
-- pp value always comes with the algorithm version that produced it.
CREATE TABLE scores (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id INT NOT NULL,
    beatmap_id INT NOT NULL,
    ruleset_id SMALLINT NOT NULL,
    ruleset VARCHAR(16) NOT NULL,
    token_id BIGINT NOT NULL,
    build_id INT NULL,
    passed TINYINT(1) NOT NULL,
    ranked TINYINT(1) NOT NULL,
    play_counted TINYINT(1) NOT NULL,
    total_score BIGINT NOT NULL,
    total_score_without_mods BIGINT NOT NULL,
    accuracy DOUBLE NOT NULL,
    max_combo INT NOT NULL,
    `rank` VARCHAR(2) NOT NULL,
    mods TEXT NOT NULL,
    mods_key VARCHAR(255) NOT NULL,
    statistics TEXT NOT NULL,
    maximum_statistics TEXT NOT NULL,
    pp DOUBLE NULL,
    pp_version VARCHAR(64) NULL,
    started_at DATETIME NULL,
    ended_at DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE score_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INT NOT NULL,
    beatmap_id INT NOT NULL,
    ruleset_id SMALLINT NOT NULL,
    beatmap_hash CHAR(32) NOT NULL,
    version_hash VARCHAR(64) NOT NULL,
    created_at DATETIME NOT NULL,
    score_id BIGINT NULL
);

CREATE TABLE scores (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INT NOT NULL,
    beatmap_id INT NOT NULL,
    ruleset_id SMALLINT NOT NULL,
    ruleset VARCHAR(16) NOT NULL,
    token_id BIGINT NOT NULL,
    build_id INT NULL,
    passed TINYINT(1) NOT NULL,
    ranked TINYINT(1) NOT NULL,
    play_counted TINYINT(1) NOT NULL,
    total_score BIGINT NOT NULL,
    total_score_without_mods BIGINT NOT NULL,
    accuracy DOUBLE NOT NULL,
    max_combo INT NOT NULL,
    `rank` VARCHAR(2) NOT NULL,
    mods TEXT NOT NULL,
    mods_key VARCHAR(255) NOT NULL,
    statistics TEXT NOT NULL,
    maximum_statistics TEXT NOT NULL,
    pp DOUBLE NULL,
    pp_version VARCHAR(64) NULL,
    started_at DATETIME NULL,
    ended_at DATETIME NOT NULL
);

-- dialect: all
CREATE UNIQUE INDEX score_tokens_score ON score_tokens (score_id);
CREATE UNIQUE INDEX scores_token ON scores (token_id);
CREATE INDEX scores_beatmap ON scores (beatmap_id, ruleset, total_score);
CREATE INDEX scores_user_recent ON scores (user_id, ruleset, ended_at);

-- A user's best ranked score per beatmap and ruleset by total score (ties: the earlier
-- score): the leaderboard, ranked score and grade counts read this.
CREATE TABLE score_bests (
    beatmap_id INT NOT NULL,
    ruleset VARCHAR(16) NOT NULL,
    user_id INT NOT NULL,
    score_id BIGINT NOT NULL,
    total_score BIGINT NOT NULL,
    PRIMARY KEY (beatmap_id, ruleset, user_id)
);
CREATE INDEX score_bests_board ON score_bests (beatmap_id, ruleset, total_score);
CREATE INDEX score_bests_user ON score_bests (user_id, ruleset);

-- A user's highest-pp score per beatmap and ruleset: weighted pp and top plays read this.
CREATE TABLE score_pp_bests (
    user_id INT NOT NULL,
    ruleset VARCHAR(16) NOT NULL,
    beatmap_id INT NOT NULL,
    score_id BIGINT NOT NULL,
    pp DOUBLE NOT NULL,
    PRIMARY KEY (user_id, ruleset, beatmap_id)
);
CREATE INDEX score_pp_bests_pp ON score_pp_bests (user_id, ruleset, pp);

CREATE TABLE score_pins (
    user_id INT NOT NULL,
    score_id BIGINT NOT NULL,
    ruleset VARCHAR(16) NOT NULL,
    display_order INT NOT NULL,
    PRIMARY KEY (user_id, score_id)
);

-- One global rank per user, ruleset and UTC day, for `rank_history` (90 days are shown).
CREATE TABLE rank_history (
    user_id INT NOT NULL,
    ruleset VARCHAR(16) NOT NULL,
    day DATE NOT NULL,
    `rank` INT NOT NULL,
    PRIMARY KEY (user_id, ruleset, day)
);
