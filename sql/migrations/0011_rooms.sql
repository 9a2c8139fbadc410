-- Rooms (osu-web app/Models/Multiplayer/*): playlists and realtime rooms, their playlist
-- items, the link from a score to the item it was played for, each user's best per item
-- with the attempts made, each user's room totals (osu-web's UserScoreAggregate) and the
-- events of realtime rooms. A playlist token is a score token with `playlist_item_id` set.

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

-- A playlist token is a score token for one playlist item (osu-web score_tokens.playlist_item_id).
ALTER TABLE score_tokens ADD COLUMN playlist_item_id BIGINT NULL;

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
