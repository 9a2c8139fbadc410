-- name: fetch_beatmapset(beatmapset_id)^
-- One beatmapset by id.
SELECT * FROM beatmapsets WHERE id = :beatmapset_id;

-- name: fetch_beatmap(beatmap_id)^
-- One beatmap by id.
SELECT * FROM beatmaps WHERE id = :beatmap_id;

-- name: fetch_beatmap_by_checksum(checksum)^
-- One beatmap by the MD5 of its .osu file.
SELECT * FROM beatmaps WHERE checksum = :checksum;

-- name: fetch_beatmap_by_filename(filename)^
-- One beatmap by its .osu file name (the lowest id when several share it).
SELECT * FROM beatmaps WHERE filename = :filename ORDER BY id LIMIT 1;

-- name: fetch_beatmaps_of_set(beatmapset_id)
-- The beatmaps of one set, easiest first as osu-web lists them.
SELECT * FROM beatmaps WHERE beatmapset_id = :beatmapset_id
ORDER BY mode, difficulty_rating, id;

-- name: fetch_beatmap_difficulties(beatmap_id)
-- Star rating and max combo of one beatmap per ruleset.
SELECT * FROM beatmap_difficulties WHERE beatmap_id = :beatmap_id ORDER BY ruleset_id;

-- name: insert_beatmapset(id, artist, artist_unicode, title, title_unicode, creator, user_id, source, tags, status, bpm, modes, difficulty_min, difficulty_max, genre_id, language_id, nsfw, video, storyboard, download_disabled, osz_checksum, search_text, submitted_date, ranked_date, last_updated, synced_at)!
-- Store a new beatmapset (play and favourite counts start at zero).
INSERT INTO beatmapsets (
    id, artist, artist_unicode, title, title_unicode, creator, user_id, source, tags, status,
    bpm, modes, difficulty_min, difficulty_max, genre_id, language_id, nsfw, video,
    storyboard, download_disabled, osz_checksum, search_text, submitted_date, ranked_date,
    last_updated, synced_at
) VALUES (
    :id, :artist, :artist_unicode, :title, :title_unicode, :creator, :user_id, :source, :tags,
    :status, :bpm, :modes, :difficulty_min, :difficulty_max, :genre_id, :language_id, :nsfw,
    :video, :storyboard, :download_disabled, :osz_checksum, :search_text, :submitted_date,
    :ranked_date, :last_updated, :synced_at
);

-- name: update_beatmapset(id, artist, artist_unicode, title, title_unicode, creator, user_id, source, tags, status, bpm, modes, difficulty_min, difficulty_max, genre_id, language_id, nsfw, video, storyboard, download_disabled, osz_checksum, search_text, submitted_date, ranked_date, last_updated, synced_at)!
-- Replace a beatmapset's metadata (its counters are kept).
UPDATE beatmapsets SET
    artist = :artist, artist_unicode = :artist_unicode, title = :title,
    title_unicode = :title_unicode, creator = :creator, user_id = :user_id, source = :source,
    tags = :tags, status = :status, bpm = :bpm, modes = :modes,
    difficulty_min = :difficulty_min, difficulty_max = :difficulty_max, genre_id = :genre_id,
    language_id = :language_id, nsfw = :nsfw, video = :video, storyboard = :storyboard,
    download_disabled = :download_disabled, osz_checksum = :osz_checksum,
    search_text = :search_text, submitted_date = :submitted_date, ranked_date = :ranked_date,
    last_updated = :last_updated, synced_at = :synced_at
WHERE id = :id;

-- name: insert_beatmap(id, beatmapset_id, checksum, filename, version, mode, status, user_id, total_length, hit_length, cs, ar, od, hp, bpm, count_circles, count_sliders, count_spinners, max_combo, difficulty_rating, is_suspicious, last_updated, beat_divisor)!
-- Store a new beatmap.
INSERT INTO beatmaps (
    id, beatmapset_id, checksum, filename, version, mode, status, user_id, total_length,
    hit_length, cs, ar, od, hp, bpm, count_circles, count_sliders, count_spinners, max_combo,
    difficulty_rating, is_suspicious, last_updated, beat_divisor
) VALUES (
    :id, :beatmapset_id, :checksum, :filename, :version, :mode, :status, :user_id,
    :total_length, :hit_length, :cs, :ar, :od, :hp, :bpm, :count_circles, :count_sliders,
    :count_spinners, :max_combo, :difficulty_rating, :is_suspicious, :last_updated,
    :beat_divisor
);

-- name: update_beatmap(id, beatmapset_id, checksum, filename, version, mode, status, user_id, total_length, hit_length, cs, ar, od, hp, bpm, count_circles, count_sliders, count_spinners, max_combo, difficulty_rating, is_suspicious, last_updated, beat_divisor)!
-- Replace a beatmap's file-derived values (play counts are kept).
UPDATE beatmaps SET
    beatmapset_id = :beatmapset_id, checksum = :checksum, filename = :filename,
    version = :version, mode = :mode, status = :status, user_id = :user_id,
    total_length = :total_length, hit_length = :hit_length, cs = :cs, ar = :ar, od = :od,
    hp = :hp, bpm = :bpm, count_circles = :count_circles, count_sliders = :count_sliders,
    count_spinners = :count_spinners, max_combo = :max_combo,
    difficulty_rating = :difficulty_rating, is_suspicious = :is_suspicious,
    last_updated = :last_updated, beat_divisor = :beat_divisor
WHERE id = :id;

-- name: delete_beatmap_difficulties(beatmap_id)!
-- Forget a beatmap's star ratings before storing recalculated ones.
DELETE FROM beatmap_difficulties WHERE beatmap_id = :beatmap_id;

-- name: insert_beatmap_difficulty(beatmap_id, ruleset_id, stars, max_combo, algorithm_version)!
-- Store one ruleset's star rating and max combo of a beatmap.
INSERT INTO beatmap_difficulties (beatmap_id, ruleset_id, stars, max_combo, algorithm_version)
VALUES (:beatmap_id, :ruleset_id, :stars, :max_combo, :algorithm_version);

-- name: mark_beatmapset_synced(beatmapset_id, synced_at)!
-- Record that upstream confirmed a set unchanged.
UPDATE beatmapsets SET synced_at = :synced_at WHERE id = :beatmapset_id;

-- name: insert_beatmapset_favourite(user_id, beatmapset_id, now)!
-- Favourite a set (the caller checked it is not favourited yet, in the same transaction).
INSERT INTO beatmapset_favourites (user_id, beatmapset_id, created_at)
VALUES (:user_id, :beatmapset_id, :now);

-- name: delete_beatmapset_favourite(user_id, beatmapset_id)!
-- Unfavourite a set.
DELETE FROM beatmapset_favourites WHERE user_id = :user_id AND beatmapset_id = :beatmapset_id;

-- name: fetch_beatmapset_favourite(user_id, beatmapset_id)$
-- 1 when the user has favourited the set.
SELECT 1 FROM beatmapset_favourites WHERE user_id = :user_id AND beatmapset_id = :beatmapset_id;

-- name: recount_beatmapset_favourites(beatmapset_id)!
-- Recompute a set's favourite_count from the favourites table (never drifts).
UPDATE beatmapsets SET favourite_count = (
    SELECT COUNT(*) FROM beatmapset_favourites WHERE beatmapset_id = :beatmapset_id
) WHERE id = :beatmapset_id;

-- name: fetch_beatmapset_favourite_count(beatmapset_id)$
-- A set's favourite count.
SELECT favourite_count FROM beatmapsets WHERE id = :beatmapset_id;

-- name: set_beatmapset_osz(beatmapset_id, osz_checksum)!
-- Record the stored .osz of a set (fetched from a mirror on first download).
UPDATE beatmapsets SET osz_checksum = :osz_checksum WHERE id = :beatmapset_id;

-- name: fetch_set_difficulties(beatmapset_id)
-- Star ratings per ruleset of every beatmap of a set (converts included).
SELECT d.* FROM beatmap_difficulties d
WHERE d.beatmap_id IN (SELECT id FROM beatmaps WHERE beatmapset_id = :beatmapset_id)
ORDER BY d.beatmap_id, d.ruleset_id;
