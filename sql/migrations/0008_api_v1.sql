-- osu! API v1 keys (osu-web's osu_apikeys): one per user, stored only as the SHA-256 of the
-- key (the key itself is shown once, when it is made). Unlike osu-web, which keeps revoked
-- rows with `revoked = 1`, revoking deletes the row: the primary key on user_id is then the
-- "one key per user" rule, held by the database under concurrent requests.
CREATE TABLE api_keys (
    user_id INT NOT NULL PRIMARY KEY,
    key_hash CHAR(64) NOT NULL,
    app_name VARCHAR(100) NOT NULL,
    app_url VARCHAR(512) NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);

-- How often each user played each beatmap (osu-web's osu_user_beatmap_playcount): every
-- submitted play counts, as on the beatmap itself; `recalc` recounts it from the scores.
CREATE TABLE beatmap_playcounts (
    user_id INT NOT NULL,
    beatmap_id INT NOT NULL,
    playcount INT NOT NULL,
    PRIMARY KEY (user_id, beatmap_id)
);
CREATE INDEX beatmap_playcounts_top ON beatmap_playcounts (user_id, playcount);

-- A user's activity (osu-web's osu_events): rank achieved, first place lost, username
-- change, beatmapset uploaded or ranked. `details` is the JSON osu-web's EventTransformer
-- adds to each type; `display_html` and `epicfactor` are what API v1's get_user shows.
-- dialect: mysql
CREATE TABLE user_events (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id INT NOT NULL,
    event_type VARCHAR(32) NOT NULL,
    beatmap_id INT NULL,
    beatmapset_id INT NULL,
    epicfactor SMALLINT NOT NULL,
    details TEXT NOT NULL,
    display_html TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE user_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INT NOT NULL,
    event_type VARCHAR(32) NOT NULL,
    beatmap_id INT NULL,
    beatmapset_id INT NULL,
    epicfactor SMALLINT NOT NULL,
    details TEXT NOT NULL,
    display_html TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: all
CREATE INDEX user_events_user ON user_events (user_id, id);

-- Kudosu received (osu-web's osu_kudos_exchange), for users/{user}/kudosu. Nothing on this
-- server grants kudosu yet (no modding discussions or forum), so it stays empty until
-- something does.
-- dialect: mysql
CREATE TABLE kudosu_history (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    receiver_id INT NOT NULL,
    giver_id INT NULL,
    action VARCHAR(64) NOT NULL,
    amount INT NOT NULL,
    model VARCHAR(32) NOT NULL,
    post_url VARCHAR(512) NULL,
    post_title VARCHAR(255) NOT NULL,
    details TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE kudosu_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    receiver_id INT NOT NULL,
    giver_id INT NULL,
    action VARCHAR(64) NOT NULL,
    amount INT NOT NULL,
    model VARCHAR(32) NOT NULL,
    post_url VARCHAR(512) NULL,
    post_title VARCHAR(255) NOT NULL,
    details TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: all
CREATE INDEX kudosu_history_receiver ON kudosu_history (receiver_id, id);

-- Beatmap packs (osu-web's osu_beatmappacks and osu_beatmappacks_items), defined with the
-- `packs` CLI. The tag's first letter is the pack type (S standard, F featured, P
-- tournament, L loved, R chart, T theme, A artist).
-- dialect: mysql
CREATE TABLE beatmap_packs (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tag VARCHAR(32) NOT NULL,
    name VARCHAR(255) NOT NULL,
    author VARCHAR(255) NOT NULL,
    url VARCHAR(512) NOT NULL,
    date DATETIME NOT NULL,
    ruleset_id SMALLINT NULL,
    no_diff_reduction TINYINT(1) NOT NULL,
    hidden TINYINT(1) NOT NULL
);

-- dialect: sqlite
CREATE TABLE beatmap_packs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tag VARCHAR(32) NOT NULL,
    name VARCHAR(255) NOT NULL,
    author VARCHAR(255) NOT NULL,
    url VARCHAR(512) NOT NULL,
    date DATETIME NOT NULL,
    ruleset_id SMALLINT NULL,
    no_diff_reduction TINYINT(1) NOT NULL,
    hidden TINYINT(1) NOT NULL
);

-- dialect: all
CREATE UNIQUE INDEX beatmap_packs_tag ON beatmap_packs (tag);
CREATE TABLE beatmap_pack_items (
    pack_id INT NOT NULL,
    beatmapset_id INT NOT NULL,
    PRIMARY KEY (pack_id, beatmapset_id)
);

-- Spotlights (osu-web's osu_charts): `spotlights` lists them; rankings/{mode}/charts ranks
-- the players of a spotlight's beatmapsets (spotlight_beatmapsets) by their best scores set
-- between its start and end.
-- dialect: mysql
CREATE TABLE spotlights (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    type VARCHAR(16) NOT NULL,
    mode_specific TINYINT(1) NOT NULL,
    start_date DATETIME NOT NULL,
    end_date DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE spotlights (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(255) NOT NULL,
    type VARCHAR(16) NOT NULL,
    mode_specific TINYINT(1) NOT NULL,
    start_date DATETIME NOT NULL,
    end_date DATETIME NOT NULL
);

-- dialect: all
CREATE TABLE spotlight_beatmapsets (
    spotlight_id INT NOT NULL,
    ruleset_id SMALLINT NOT NULL,
    beatmapset_id INT NOT NULL,
    PRIMARY KEY (spotlight_id, ruleset_id, beatmapset_id)
);

-- Beatmap tags (osu-web's tags): what players can put on beatmaps, `ruleset_id` NULL for every
-- ruleset. The operator fills it (`tags import`, `tags define`, `tags sync`); ids are osu!'s.
CREATE TABLE beatmap_tags (
    id INT NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    ruleset_id SMALLINT NULL,
    description TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

-- Beatmap tag votes (osu-web's beatmap_tags): who put which tag on which beatmap.
CREATE TABLE beatmap_tag_votes (
    beatmap_id INT NOT NULL,
    tag_id INT NOT NULL,
    user_id INT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (beatmap_id, tag_id, user_id)
);
CREATE INDEX beatmap_tag_votes_user ON beatmap_tag_votes (user_id, beatmap_id);
