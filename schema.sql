-- The current schema of the osu! server: what applying every file in sql/migrations/ to an
-- empty database gives (tests/integration/test_schema.py proves it on MariaDB and SQLite).
-- Written for MySQL/MariaDB; tables whose ids are generated need a dialect pair
-- (`-- dialect: mysql` / `-- dialect: sqlite`), everything after `-- dialect: all` is one
-- text for both. Change the schema by adding a migration, then update this file to match.

-- dialect: mysql
-- Every table after this inherits utf8mb4 (usernames, chat and metadata are Unicode).
ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- User ids start at 2: lazer treats id 1 as its "not logged in" placeholder.
CREATE TABLE users (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(32) NOT NULL,
    username_safe VARCHAR(32) NOT NULL,
    email VARCHAR(254) NOT NULL,
    password_hash VARCHAR(128) NOT NULL,
    country_code CHAR(2) NOT NULL DEFAULT 'XX',
    playmode VARCHAR(16) NOT NULL DEFAULT 'osu',
    is_supporter TINYINT(1) NOT NULL DEFAULT 1,
    is_admin TINYINT(1) NOT NULL DEFAULT 0,
    is_bot TINYINT(1) NOT NULL DEFAULT 0,
    is_restricted TINYINT(1) NOT NULL DEFAULT 0,
    pm_friends_only TINYINT(1) NOT NULL DEFAULT 0,
    title VARCHAR(64) NULL,
    location VARCHAR(64) NULL,
    interests VARCHAR(255) NULL,
    occupation VARCHAR(64) NULL,
    twitter VARCHAR(255) NULL,
    discord VARCHAR(255) NULL,
    website VARCHAR(255) NULL,
    profile_colour VARCHAR(16) NULL,
    avatar_url VARCHAR(255) NULL,
    cover_url VARCHAR(255) NULL,
    silence_end_at DATETIME NULL,
    created_at DATETIME NOT NULL,
    last_visit_at DATETIME NOT NULL,
    is_moderator TINYINT(1) NOT NULL DEFAULT 0,
    totp_secret VARCHAR(64) NULL
) AUTO_INCREMENT = 2;

CREATE TABLE oauth_clients (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    owner_user_id INT NULL,
    password_client TINYINT(1) NOT NULL DEFAULT 0,
    redirect VARCHAR(512) NOT NULL DEFAULT '',
    revoked TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL
);

CREATE TABLE notifications (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id INT NOT NULL,
    name VARCHAR(64) NOT NULL,
    object_type VARCHAR(32) NOT NULL,
    object_id BIGINT NOT NULL,
    source_user_id INT NULL,
    details TEXT NOT NULL,
    is_read TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL
);

CREATE TABLE chat_channels (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    description VARCHAR(255) NOT NULL DEFAULT '',
    type VARCHAR(16) NOT NULL,
    created_at DATETIME NOT NULL,
    moderated TINYINT(1) NOT NULL DEFAULT 0,
    last_message_id BIGINT NULL
);

CREATE TABLE chat_messages (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    channel_id INT NOT NULL,
    sender_id INT NOT NULL,
    content TEXT NOT NULL,
    is_action TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    visible_to INT NULL
);

CREATE TABLE chat_silences (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id INT NOT NULL,
    reason VARCHAR(255) NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    ends_at DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(32) NOT NULL,
    username_safe VARCHAR(32) NOT NULL,
    email VARCHAR(254) NOT NULL,
    password_hash VARCHAR(128) NOT NULL,
    country_code CHAR(2) NOT NULL DEFAULT 'XX',
    playmode VARCHAR(16) NOT NULL DEFAULT 'osu',
    is_supporter TINYINT(1) NOT NULL DEFAULT 1,
    is_admin TINYINT(1) NOT NULL DEFAULT 0,
    is_bot TINYINT(1) NOT NULL DEFAULT 0,
    is_restricted TINYINT(1) NOT NULL DEFAULT 0,
    pm_friends_only TINYINT(1) NOT NULL DEFAULT 0,
    title VARCHAR(64) NULL,
    location VARCHAR(64) NULL,
    interests VARCHAR(255) NULL,
    occupation VARCHAR(64) NULL,
    twitter VARCHAR(255) NULL,
    discord VARCHAR(255) NULL,
    website VARCHAR(255) NULL,
    profile_colour VARCHAR(16) NULL,
    avatar_url VARCHAR(255) NULL,
    cover_url VARCHAR(255) NULL,
    silence_end_at DATETIME NULL,
    created_at DATETIME NOT NULL,
    last_visit_at DATETIME NOT NULL,
    is_moderator TINYINT(1) NOT NULL DEFAULT 0,
    totp_secret VARCHAR(64) NULL
);

-- User ids start at 2: lazer treats id 1 as its "not logged in" placeholder.
INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 1);

CREATE TABLE oauth_clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(100) NOT NULL,
    owner_user_id INT NULL,
    password_client TINYINT(1) NOT NULL DEFAULT 0,
    redirect VARCHAR(512) NOT NULL DEFAULT '',
    revoked TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INT NOT NULL,
    name VARCHAR(64) NOT NULL,
    object_type VARCHAR(32) NOT NULL,
    object_id BIGINT NOT NULL,
    source_user_id INT NULL,
    details TEXT NOT NULL,
    is_read TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL
);

CREATE TABLE chat_channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(64) NOT NULL,
    description VARCHAR(255) NOT NULL DEFAULT '',
    type VARCHAR(16) NOT NULL,
    created_at DATETIME NOT NULL,
    moderated TINYINT(1) NOT NULL DEFAULT 0,
    last_message_id BIGINT NULL
);

CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INT NOT NULL,
    sender_id INT NOT NULL,
    content TEXT NOT NULL,
    is_action TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    visible_to INT NULL
);

CREATE TABLE chat_silences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INT NOT NULL,
    reason VARCHAR(255) NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    ends_at DATETIME NOT NULL
);

-- dialect: all
-- Names are unique ignoring case and treating space and underscore alike (osu-web's rule).
CREATE UNIQUE INDEX users_username_safe ON users (username_safe);
CREATE UNIQUE INDEX users_email ON users (email);

-- Per-ruleset statistics: osu, taiko, fruits, mania, plus osurx, osuap, taikorx, fruitsrx
-- when relax rulesets are enabled. Score submission keeps these current.
CREATE TABLE user_statistics (
    user_id INT NOT NULL,
    ruleset VARCHAR(16) NOT NULL,
    ranked_score BIGINT NOT NULL DEFAULT 0,
    total_score BIGINT NOT NULL DEFAULT 0,
    pp DOUBLE NOT NULL DEFAULT 0,
    hit_accuracy DOUBLE NOT NULL DEFAULT 0,
    play_count INT NOT NULL DEFAULT 0,
    play_time INT NOT NULL DEFAULT 0,
    total_hits BIGINT NOT NULL DEFAULT 0,
    maximum_combo INT NOT NULL DEFAULT 0,
    replays_watched INT NOT NULL DEFAULT 0,
    count_ssh INT NOT NULL DEFAULT 0,
    count_ss INT NOT NULL DEFAULT 0,
    count_sh INT NOT NULL DEFAULT 0,
    count_s INT NOT NULL DEFAULT 0,
    count_a INT NOT NULL DEFAULT 0,
    count_300 BIGINT NOT NULL DEFAULT 0,
    count_100 BIGINT NOT NULL DEFAULT 0,
    count_50 BIGINT NOT NULL DEFAULT 0,
    count_miss BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, ruleset)
);
CREATE INDEX user_statistics_ruleset_pp ON user_statistics (ruleset, pp);

-- A client secret is stored as its SHA-256; the lazer client has two public secrets.
CREATE TABLE oauth_client_secrets (
    client_id INT NOT NULL,
    secret_sha256 CHAR(64) NOT NULL,
    PRIMARY KEY (client_id, secret_sha256)
);

-- Tokens are stored only as SHA-256 hashes (S-TOK-3). A family is one sign-in and every
-- token rotated from it; reuse of a rotated refresh token revokes the family (S-TOK-6).
CREATE TABLE oauth_access_tokens (
    token_sha256 CHAR(64) NOT NULL PRIMARY KEY,
    user_id INT NULL,
    client_id INT NOT NULL,
    scopes VARCHAR(255) NOT NULL,
    family_id CHAR(32) NOT NULL,
    revoked TINYINT(1) NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    verified TINYINT(1) NOT NULL DEFAULT 1
);
CREATE INDEX oauth_access_tokens_family ON oauth_access_tokens (family_id);
CREATE INDEX oauth_access_tokens_user ON oauth_access_tokens (user_id);

CREATE TABLE oauth_refresh_tokens (
    token_sha256 CHAR(64) NOT NULL PRIMARY KEY,
    access_token_sha256 CHAR(64) NOT NULL,
    family_id CHAR(32) NOT NULL,
    user_id INT NULL,
    client_id INT NOT NULL,
    scopes VARCHAR(255) NOT NULL,
    rotated TINYINT(1) NOT NULL DEFAULT 0,
    revoked TINYINT(1) NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    verified TINYINT(1) NOT NULL DEFAULT 1
);
CREATE INDEX oauth_refresh_tokens_family ON oauth_refresh_tokens (family_id);

-- Friends and blocks, as osu-web's user relations: one row per (user, target).
CREATE TABLE user_relations (
    user_id INT NOT NULL,
    target_id INT NOT NULL,
    kind VARCHAR(8) NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (user_id, target_id)
);
CREATE INDEX user_relations_target ON user_relations (target_id, kind);

CREATE TABLE beatmapset_favourites (
    user_id INT NOT NULL,
    beatmapset_id INT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (user_id, beatmapset_id)
);
CREATE INDEX beatmapset_favourites_set ON beatmapset_favourites (beatmapset_id);

CREATE INDEX notifications_user ON notifications (user_id, id);

CREATE TABLE chat_channel_users (
    channel_id INT NOT NULL,
    user_id INT NOT NULL,
    last_read_id BIGINT NULL,
    joined_at DATETIME NOT NULL,
    hidden TINYINT(1) NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX chat_channel_users_user ON chat_channel_users (user_id);
CREATE INDEX chat_messages_channel ON chat_messages (channel_id, id);
CREATE INDEX chat_silences_user ON chat_silences (user_id);
CREATE UNIQUE INDEX chat_channels_name ON chat_channels (name);

-- MD5s of passwords too common to allow (osu-web keeps the same kind of list).
CREATE TABLE weak_passwords (
    password_md5 CHAR(32) NOT NULL PRIMARY KEY
);

INSERT INTO oauth_clients (id, name, owner_user_id, password_client, redirect, revoked, created_at)
VALUES (5, 'osu!lazer', NULL, 1, '', 0, CURRENT_TIMESTAMP);
INSERT INTO oauth_client_secrets (client_id, secret_sha256) VALUES
    (5, '6eb6411a11f3c21d1ab129230b9fcd1121666106764b8b5daf12d1d2d4ecbd02'),
    (5, '089e8378c60e6abac41dfbe000bed9f5cfc89ccec6ecfe6a0523af5f15da93bb');

INSERT INTO chat_channels (name, description, type, created_at, moderated) VALUES
    ('#osu', 'The official osu! channel (english only).', 'PUBLIC', CURRENT_TIMESTAMP, 0),
    ('#announce', 'Server announcements.', 'PUBLIC', CURRENT_TIMESTAMP, 1),
    ('#lobby', 'Looking for a multiplayer game.', 'PUBLIC', CURRENT_TIMESTAMP, 0);

INSERT INTO weak_passwords (password_md5) VALUES
    ('5f4dcc3b5aa765d61d8327deb882cf99'),
    ('7c6a180b36896a0a8c02787eeafb0e4c'),
    ('25d55ad283aa400af464c76d713c07ad'),
    ('25f9e794323b453885f5181f1b624d0b'),
    ('e807f1fcf82d132f9bb018ca6738a19f'),
    ('22d7fe8c185003c98f97e5d6ced420c7'),
    ('6eea9b7ef19179a06954edd0f6c05ceb'),
    ('1bbd886460827015e5d605ed44252251'),
    ('dd4b21e9ef71e1291183a46b913ae6f2'),
    ('f25a2fc72690b780b2a14e140ef6a9e0'),
    ('e19d5cd5af0378da05f63f891c7467af'),
    ('276f8db0b86edaa7fc805516c852c889'),
    ('37b4e2d82900d5e94b8da524fbeb33c0'),
    ('0571749e2ac330a7455809c6b0e7af90'),
    ('8afa847f50a716e64932d995c8e7435a'),
    ('84d961568a65073a3bcf0eb216b2a576'),
    ('5fcfd41e547a12215b173ff47fdd3739'),
    ('bec92397646e8feb93667ae2e6bc931b'),
    ('201f00b5ca5d65a1c118e5e32431514c'),
    ('bed128365216c019988915ed3add75fb'),
    ('5416d7cd6ef195a0f7622a9c56b55e84'),
    ('e6a52c828d56b46129fbf85c4cd164b3'),
    ('bf709005906087dc1256bb4449d8774d'),
    ('6a204bd89f3c8348afd5c77c717a097a'),
    ('ed2b1f468c5f915f3f1cf75d7068baae'),
    ('8ddcff3a80f4189ca1c9d4d902c3c909'),
    ('5e8667a439c68f5145dd2fcbecf02209'),
    ('8f9b97bf3fad640ca17e9627e6bba1fd'),
    ('5dc7bfb3144d4de54ec91b1638b43efb'),
    ('d6be6322d62ab5222f4894049e4408bf'),
    ('4459bc6149433c10e5aae7c745ce380b'),
    ('7a4524cc66ea832a7dc2ea35dc7ac860'),
    ('b1d428b39e240dfe0969d08405a598f4'),
    ('af3f6d24ad6fe5786af5a3b762125f12');

-- Beatmaps (0002).
-- dialect: all
-- status: graveyard -2, wip -1, pending 0, ranked 1, approved 2, qualified 3, loved 4.
-- `modes` is a bitmask of the rulesets the set's own beatmaps are for (1 << mode), and
-- `search_text` the lower-cased artist, title, creator, source, tags and difficulty names:
-- both are denormalised so search filters a single table. `synced_at` is when upstream
-- last confirmed the set (NULL: imported locally, never compared with upstream).
CREATE TABLE beatmapsets (
    id INT NOT NULL PRIMARY KEY,
    artist VARCHAR(255) NOT NULL,
    artist_unicode VARCHAR(255) NOT NULL,
    title VARCHAR(255) NOT NULL,
    title_unicode VARCHAR(255) NOT NULL,
    creator VARCHAR(255) NOT NULL,
    user_id INT NOT NULL DEFAULT 0,
    source VARCHAR(255) NOT NULL DEFAULT '',
    tags TEXT NOT NULL,
    status SMALLINT NOT NULL,
    bpm DOUBLE NOT NULL DEFAULT 0,
    modes SMALLINT NOT NULL DEFAULT 0,
    difficulty_min DOUBLE NOT NULL DEFAULT 0,
    difficulty_max DOUBLE NOT NULL DEFAULT 0,
    genre_id SMALLINT NOT NULL DEFAULT 1,
    language_id SMALLINT NOT NULL DEFAULT 1,
    nsfw TINYINT(1) NOT NULL DEFAULT 0,
    video TINYINT(1) NOT NULL DEFAULT 0,
    storyboard TINYINT(1) NOT NULL DEFAULT 0,
    download_disabled TINYINT(1) NOT NULL DEFAULT 0,
    play_count INT NOT NULL DEFAULT 0,
    favourite_count INT NOT NULL DEFAULT 0,
    osz_checksum CHAR(32) NULL,
    search_text TEXT NOT NULL,
    submitted_date DATETIME NOT NULL,
    ranked_date DATETIME NULL,
    last_updated DATETIME NOT NULL,
    synced_at DATETIME NULL
);
CREATE INDEX beatmapsets_status ON beatmapsets (status, ranked_date);
CREATE INDEX beatmapsets_user ON beatmapsets (user_id);

-- `difficulty_rating` and `max_combo` are the core's values for the beatmap's own ruleset;
-- converts and the other rulesets are in beatmap_difficulties. `beat_divisor` (0010) is the
-- file's [Editor] BeatDivisor, for search's `divisor=`.
CREATE TABLE beatmaps (
    id INT NOT NULL PRIMARY KEY,
    beatmapset_id INT NOT NULL,
    checksum CHAR(32) NOT NULL,
    filename VARCHAR(512) NOT NULL,
    version VARCHAR(255) NOT NULL,
    mode SMALLINT NOT NULL,
    status SMALLINT NOT NULL,
    user_id INT NOT NULL DEFAULT 0,
    total_length INT NOT NULL,
    hit_length INT NOT NULL,
    cs DOUBLE NOT NULL,
    ar DOUBLE NOT NULL,
    od DOUBLE NOT NULL,
    hp DOUBLE NOT NULL,
    bpm DOUBLE NOT NULL,
    count_circles INT NOT NULL,
    count_sliders INT NOT NULL,
    count_spinners INT NOT NULL,
    max_combo INT NOT NULL,
    difficulty_rating DOUBLE NOT NULL,
    is_suspicious TINYINT(1) NOT NULL DEFAULT 0,
    playcount INT NOT NULL DEFAULT 0,
    passcount INT NOT NULL DEFAULT 0,
    last_updated DATETIME NOT NULL,
    beat_divisor SMALLINT NOT NULL DEFAULT 4
);
CREATE UNIQUE INDEX beatmaps_checksum ON beatmaps (checksum);
CREATE INDEX beatmaps_set ON beatmaps (beatmapset_id);
CREATE INDEX beatmaps_filename ON beatmaps (filename);

-- Star rating and max combo per ruleset (the own ruleset, plus converts of osu! maps),
-- with the algorithm version that produced them so a pp update can recalculate.
CREATE TABLE beatmap_difficulties (
    beatmap_id INT NOT NULL,
    ruleset_id SMALLINT NOT NULL,
    stars DOUBLE NOT NULL,
    max_combo INT NOT NULL,
    algorithm_version VARCHAR(64) NOT NULL,
    PRIMARY KEY (beatmap_id, ruleset_id)
);

-- Scores (0003).
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
    score_id BIGINT NULL,
    playlist_item_id BIGINT NULL
);

-- `ruleset` is the statistics key ("osu", or "osurx" for relax when that setting is on);
-- `mods_key` the sorted acronyms joined with commas, for mod-filtered leaderboards. The
-- pp value always comes with the algorithm version that produced it. `has_replay` is set
-- once the `.osr` built from the play's spectator frames is durably stored.
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
    ended_at DATETIME NOT NULL,
    has_replay TINYINT(1) NOT NULL DEFAULT 0
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
    score_id BIGINT NULL,
    playlist_item_id BIGINT NULL
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
    ended_at DATETIME NOT NULL,
    has_replay TINYINT(1) NOT NULL DEFAULT 0
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

-- Unrestricted bests per board counted per block of totals at two grains (16 and 8 bits): a
-- block at grain g holds the totals [block << g, (block + 1) << g). A board's size and a
-- position are sums over a few blocks instead of counts over the board.
CREATE TABLE score_board_counts (
    beatmap_id INT NOT NULL,
    ruleset VARCHAR(16) NOT NULL,
    grain SMALLINT NOT NULL,
    block BIGINT NOT NULL,
    entries INT NOT NULL,
    PRIMARY KEY (beatmap_id, ruleset, grain, block)
);

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

-- Outbox (0005): messages written in the transaction of the change they announce, deleted
-- once published; a relay publishes what is left (at-least-once delivery).
-- dialect: mysql
CREATE TABLE outbox (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    channel VARCHAR(64) NOT NULL,
    payload TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel VARCHAR(64) NOT NULL,
    payload TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- Rooms (0011): playlists and realtime rooms, playlist items, score links, per-item bests,
-- per-room totals and realtime room events. Playlist tokens are score_tokens rows with
-- `playlist_item_id` set (the column is added to score_tokens above).

-- dialect: mysql
-- `type` playlists / head_to_head / team_versus, `category` normal / spotlight /
-- featured_artist / daily_challenge, `status` idle / playing (realtime rooms). `ends_at` null:
-- a realtime room still open. `channel_id` is the room's chat channel (null until chat made
-- one). `participant_count` counts users who ever started a play here.
CREATE TABLE rooms (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id INT NOT NULL,
    name VARCHAR(100) NOT NULL,
    description VARCHAR(255) NULL,
    type VARCHAR(16) NOT NULL,
    category VARCHAR(16) NOT NULL DEFAULT 'normal',
    queue_mode VARCHAR(32) NOT NULL DEFAULT 'host_only',
    status VARCHAR(16) NOT NULL DEFAULT 'idle',
    password VARCHAR(255) NULL,
    starts_at DATETIME NOT NULL,
    ends_at DATETIME NULL,
    max_attempts INT NULL,
    max_participants INT NULL,
    participant_count INT NOT NULL DEFAULT 0,
    auto_start_duration INT NOT NULL DEFAULT 0,
    auto_skip TINYINT(1) NOT NULL DEFAULT 0,
    pinned TINYINT(1) NOT NULL DEFAULT 0,
    channel_id BIGINT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

-- Mods are JSON arrays of `{"acronym", "settings"}`. `expired`/`played_at` are set by the
-- realtime queue; `playlist_order` orders a realtime queue; `max_attempts` limits one item.
CREATE TABLE room_playlist_items (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    room_id BIGINT NOT NULL,
    owner_id INT NOT NULL,
    beatmap_id INT NOT NULL,
    ruleset_id SMALLINT NOT NULL,
    required_mods TEXT NOT NULL,
    allowed_mods TEXT NOT NULL,
    freestyle TINYINT(1) NOT NULL DEFAULT 0,
    expired TINYINT(1) NOT NULL DEFAULT 0,
    played_at DATETIME NULL,
    playlist_order SMALLINT NULL,
    max_attempts INT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

-- A user's best score on one item (osu-web multiplayer_scores_high): `attempts` counts
-- tokens taken; `score_id` null until a counting score (a pass, or any play in realtime).
CREATE TABLE room_item_user_best (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    playlist_item_id BIGINT NOT NULL,
    user_id INT NOT NULL,
    score_id BIGINT NULL,
    total_score BIGINT NOT NULL DEFAULT 0,
    accuracy DOUBLE NOT NULL DEFAULT 0,
    attempts INT NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

-- A user's totals in one room (osu-web multiplayer_rooms_high): the sums over the user's
-- item bests; `accuracy` is the sum (the average is accuracy / completed), `in_room` marks
-- who is inside a realtime room now.
CREATE TABLE room_user_totals (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    room_id BIGINT NOT NULL,
    user_id INT NOT NULL,
    total_score BIGINT NOT NULL DEFAULT 0,
    accuracy DOUBLE NOT NULL DEFAULT 0,
    completed INT NOT NULL DEFAULT 0,
    attempts INT NOT NULL DEFAULT 0,
    last_score_id BIGINT NULL,
    in_room TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

-- Realtime room history (osu-web multiplayer_realtime_room_events): room_created,
-- player_joined, game_started, ...; `event_detail` is JSON.
CREATE TABLE room_events (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    room_id BIGINT NOT NULL,
    event_type VARCHAR(32) NOT NULL,
    user_id INT NULL,
    playlist_item_id BIGINT NULL,
    event_detail TEXT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE rooms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INT NOT NULL,
    name VARCHAR(100) NOT NULL,
    description VARCHAR(255) NULL,
    type VARCHAR(16) NOT NULL,
    category VARCHAR(16) NOT NULL DEFAULT 'normal',
    queue_mode VARCHAR(32) NOT NULL DEFAULT 'host_only',
    status VARCHAR(16) NOT NULL DEFAULT 'idle',
    password VARCHAR(255) NULL,
    starts_at DATETIME NOT NULL,
    ends_at DATETIME NULL,
    max_attempts INT NULL,
    max_participants INT NULL,
    participant_count INT NOT NULL DEFAULT 0,
    auto_start_duration INT NOT NULL DEFAULT 0,
    auto_skip TINYINT(1) NOT NULL DEFAULT 0,
    pinned TINYINT(1) NOT NULL DEFAULT 0,
    channel_id BIGINT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE room_playlist_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id BIGINT NOT NULL,
    owner_id INT NOT NULL,
    beatmap_id INT NOT NULL,
    ruleset_id SMALLINT NOT NULL,
    required_mods TEXT NOT NULL,
    allowed_mods TEXT NOT NULL,
    freestyle TINYINT(1) NOT NULL DEFAULT 0,
    expired TINYINT(1) NOT NULL DEFAULT 0,
    played_at DATETIME NULL,
    playlist_order SMALLINT NULL,
    max_attempts INT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE room_item_user_best (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    playlist_item_id BIGINT NOT NULL,
    user_id INT NOT NULL,
    score_id BIGINT NULL,
    total_score BIGINT NOT NULL DEFAULT 0,
    accuracy DOUBLE NOT NULL DEFAULT 0,
    attempts INT NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE room_user_totals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id BIGINT NOT NULL,
    user_id INT NOT NULL,
    total_score BIGINT NOT NULL DEFAULT 0,
    accuracy DOUBLE NOT NULL DEFAULT 0,
    completed INT NOT NULL DEFAULT 0,
    attempts INT NOT NULL DEFAULT 0,
    last_score_id BIGINT NULL,
    in_room TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE room_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id BIGINT NOT NULL,
    event_type VARCHAR(32) NOT NULL,
    user_id INT NULL,
    playlist_item_id BIGINT NULL,
    event_detail TEXT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: all
-- The score behind each playlist play (osu-web multiplayer_playlist_item_scores, ScoreLink).
CREATE TABLE room_scores (
    score_id BIGINT NOT NULL PRIMARY KEY,
    room_id BIGINT NOT NULL,
    playlist_item_id BIGINT NOT NULL,
    user_id INT NOT NULL
);

CREATE INDEX rooms_type_ends ON rooms (type, ends_at);
CREATE INDEX rooms_host ON rooms (user_id, type, ends_at);
CREATE INDEX room_playlist_items_room ON room_playlist_items (room_id);
CREATE UNIQUE INDEX room_item_user_best_user ON room_item_user_best (playlist_item_id, user_id);
CREATE INDEX room_item_user_best_board ON room_item_user_best (playlist_item_id, total_score);
CREATE UNIQUE INDEX room_user_totals_user ON room_user_totals (room_id, user_id);
CREATE INDEX room_user_totals_board ON room_user_totals (room_id, total_score);
CREATE INDEX room_user_totals_participated ON room_user_totals (user_id, room_id);
CREATE INDEX room_events_room ON room_events (room_id, id);
CREATE INDEX room_scores_item ON room_scores (playlist_item_id, user_id);

-- Accounts (0007): moderation history and previous usernames.
-- dialect: mysql
CREATE TABLE account_history (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id INT NOT NULL,
    actor_id INT NULL,
    action VARCHAR(16) NOT NULL,
    reason VARCHAR(255) NOT NULL DEFAULT '',
    period_seconds INT NULL,
    created_at DATETIME NOT NULL
);

CREATE TABLE username_history (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id INT NOT NULL,
    username_last VARCHAR(32) NOT NULL,
    username_last_safe VARCHAR(32) NOT NULL,
    username VARCHAR(32) NOT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE account_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INT NOT NULL,
    actor_id INT NULL,
    action VARCHAR(16) NOT NULL,
    reason VARCHAR(255) NOT NULL DEFAULT '',
    period_seconds INT NULL,
    created_at DATETIME NOT NULL
);

CREATE TABLE username_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INT NOT NULL,
    username_last VARCHAR(32) NOT NULL,
    username_last_safe VARCHAR(32) NOT NULL,
    username VARCHAR(32) NOT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: all
CREATE INDEX account_history_user ON account_history (user_id, id);
CREATE INDEX username_history_user ON username_history (user_id, id);
CREATE INDEX username_history_last ON username_history (username_last_safe);

-- Chat (0006): reports from POST reports (users and chat messages), kept for operators.
-- dialect: mysql
CREATE TABLE reports (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    reporter_id INT NOT NULL,
    user_id INT NOT NULL,
    reportable_type VARCHAR(32) NOT NULL,
    reportable_id BIGINT NOT NULL,
    reason VARCHAR(32) NOT NULL,
    comments TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: sqlite
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter_id INT NOT NULL,
    user_id INT NOT NULL,
    reportable_type VARCHAR(32) NOT NULL,
    reportable_id BIGINT NOT NULL,
    reason VARCHAR(32) NOT NULL,
    comments TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- dialect: all
CREATE INDEX reports_user ON reports (user_id, id);

-- API v1 (0008): v1 keys, one per user, stored as the SHA-256 of the key; revoking deletes
-- the row, so the primary key is the one-key-per-user rule.
-- dialect: all
CREATE TABLE api_keys (
    user_id INT NOT NULL PRIMARY KEY,
    key_hash CHAR(64) NOT NULL,
    app_name VARCHAR(100) NOT NULL,
    app_url VARCHAR(512) NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);

-- How often each user played each beatmap (0008); recalc recounts it from the scores.
CREATE TABLE beatmap_playcounts (
    user_id INT NOT NULL,
    beatmap_id INT NOT NULL,
    playcount INT NOT NULL,
    PRIMARY KEY (user_id, beatmap_id)
);
CREATE INDEX beatmap_playcounts_top ON beatmap_playcounts (user_id, playcount);

-- A user's activity (0008, osu-web's osu_events): `details` as osu-web's EventTransformer
-- adds them; `display_html` and `epicfactor` for API v1's get_user.
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

-- Kudosu received (0008, osu-web's osu_kudos_exchange); nothing grants kudosu yet.
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

-- Beatmap packs (0008, osu-web's osu_beatmappacks and osu_beatmappacks_items), defined with the
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

-- Spotlights (0008, osu-web's osu_charts): `spotlights` lists them; rankings/{mode}/charts ranks
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

-- Beatmap tags and tag votes (0008); the operator fills the tags (`tags` CLI).
-- dialect: all
CREATE TABLE beatmap_tags (
    id INT NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    ruleset_id SMALLINT NULL,
    description TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE beatmap_tag_votes (
    beatmap_id INT NOT NULL,
    tag_id INT NOT NULL,
    user_id INT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (beatmap_id, tag_id, user_id)
);
CREATE INDEX beatmap_tag_votes_user ON beatmap_tag_votes (user_id, beatmap_id);
-- Daily challenge (0012): one queued playlist item per UTC day and the room opened for it;
-- each user's streaks and placements (osu-web DailyChallengeUserStats).
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
