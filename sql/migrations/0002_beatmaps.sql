-- Beatmapsets, beatmaps and their star ratings per ruleset. Ids and checksums are osu!'s
-- own (lazer learns them from osu!'s cache), so nothing here is generated: one text serves
-- both dialects. The .osu bytes live in the file store, content-addressed by checksum.

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
-- converts and the other rulesets are in beatmap_difficulties.
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
    last_updated DATETIME NOT NULL
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
