-- name: insert_room(user_id, name, description, type, category, queue_mode, password, starts_at, ends_at, max_attempts, max_participants, auto_start_duration, auto_skip, now)!
-- Create a room; returns its id.
INSERT INTO rooms (user_id, name, description, type, category, queue_mode, password, starts_at,
                   ends_at, max_attempts, max_participants, auto_start_duration, auto_skip,
                   created_at, updated_at)
VALUES (:user_id, :name, :description, :type, :category, :queue_mode, :password, :starts_at,
        :ends_at, :max_attempts, :max_participants, :auto_start_duration, :auto_skip, :now, :now);

-- name: fetch_room(room_id)^
-- One room by id.
SELECT id, user_id, name, description, type, category, queue_mode, status, password, starts_at,
       ends_at, max_attempts, max_participants, participant_count, auto_start_duration,
       auto_skip, pinned, channel_id, created_at
FROM rooms WHERE id = :room_id;

-- name: set_room_channel(room_id, channel_id)!
-- Record the room's chat channel.
UPDATE rooms SET channel_id = :channel_id WHERE id = :room_id;

-- name: end_room(room_id, now)!
-- Close a room now (DELETE rooms/{id}).
UPDATE rooms SET ends_at = :now, updated_at = :now WHERE id = :room_id;

-- name: count_active_playlists_of_host(user_id, now)$
-- Playlists a host has open (osu-web Room::assertHostRoomAllowance).
SELECT COUNT(*) FROM rooms
WHERE user_id = :user_id AND type = 'playlists' AND starts_at <= :now
  AND (ends_at > :now OR ends_at IS NULL);

-- name: count_active_realtime_rooms_of_host(user_id, now)$
-- Realtime rooms a host has open (one at a time).
SELECT COUNT(*) FROM rooms
WHERE user_id = :user_id
  AND type IN ('head_to_head', 'team_versus', 'matchmaking', 'ranked_play')
  AND starts_at <= :now AND (ends_at > :now OR ends_at IS NULL);

-- name: insert_playlist_item(room_id, owner_id, beatmap_id, ruleset_id, required_mods, allowed_mods, freestyle, max_attempts, now)!
-- Add an item to a room's playlist; returns its id.
INSERT INTO room_playlist_items (room_id, owner_id, beatmap_id, ruleset_id, required_mods,
                                 allowed_mods, freestyle, max_attempts, created_at, updated_at)
VALUES (:room_id, :owner_id, :beatmap_id, :ruleset_id, :required_mods, :allowed_mods, :freestyle,
        :max_attempts, :now, :now);

-- name: fetch_room_playlist(room_id)
-- A room's playlist items in the order they were added.
SELECT id, room_id, owner_id, beatmap_id, ruleset_id, required_mods, allowed_mods, freestyle,
       expired, played_at, playlist_order, max_attempts, created_at
FROM room_playlist_items WHERE room_id = :room_id ORDER BY id;

-- name: fetch_playlist_item(room_id, item_id)^
-- One item of one room.
SELECT id, room_id, owner_id, beatmap_id, ruleset_id, required_mods, allowed_mods, freestyle,
       expired, played_at, playlist_order, max_attempts, created_at
FROM room_playlist_items WHERE id = :item_id AND room_id = :room_id;

-- name: fetch_room_user_total(room_id, user_id)^
-- A user's totals in a room.
SELECT room_id, user_id, total_score, accuracy, completed, attempts, last_score_id
FROM room_user_totals WHERE room_id = :room_id AND user_id = :user_id;

-- name: fetch_room_leaderboard(room_id, limit, offset)
-- The room's ranking (osu-web UserScoreAggregate::forRanking): users with a completed item,
-- restricted users left out, by total then the earlier last score.
SELECT t.room_id, t.user_id, t.total_score, t.accuracy, t.completed, t.attempts, t.last_score_id
FROM room_user_totals t JOIN users u ON u.id = t.user_id
WHERE t.room_id = :room_id AND t.completed > 0 AND u.is_restricted = 0
ORDER BY t.total_score DESC, t.last_score_id ASC
LIMIT :limit OFFSET :offset;

-- name: fetch_room_leaderboard_position(room_id, total_score, last_score_id)$
-- 1 + the ranked users ahead of this total (osu-web UserScoreAggregate::userRank).
SELECT 1 + COUNT(*) FROM room_user_totals t JOIN users u ON u.id = t.user_id
WHERE t.room_id = :room_id AND t.completed > 0 AND u.is_restricted = 0
  AND (t.total_score > :total_score
       OR (t.total_score = :total_score AND t.last_score_id < :last_score_id));

-- name: fetch_user_item_attempts(room_id, user_id)
-- Attempts per item of a user in a room, and whether the item best passed.
SELECT b.playlist_item_id, b.attempts, COALESCE(s.passed, 0) AS passed
FROM room_item_user_best b
JOIN room_playlist_items i ON i.id = b.playlist_item_id
LEFT JOIN scores s ON s.id = b.score_id
WHERE i.room_id = :room_id AND b.user_id = :user_id
ORDER BY b.playlist_item_id;

-- name: fetch_recent_participants(room_id, limit)
-- Users who played in the room, most recently active first.
SELECT user_id FROM room_user_totals WHERE room_id = :room_id
ORDER BY updated_at DESC, id DESC LIMIT :limit;

-- name: fetch_recent_participants_in_room(room_id, limit)
-- Users inside an open realtime room, most recently active first.
SELECT user_id FROM room_user_totals WHERE room_id = :room_id AND in_room = 1
ORDER BY updated_at DESC, id DESC LIMIT :limit;

-- name: insert_room_event(room_id, event_type, user_id, playlist_item_id, event_detail, now)!
-- Record a realtime room event; returns its id.
INSERT INTO room_events (room_id, event_type, user_id, playlist_item_id, event_detail, created_at)
VALUES (:room_id, :event_type, :user_id, :playlist_item_id, :event_detail, :now);

-- name: fetch_room_events_after(room_id, after, limit)
-- Events after an id, oldest first.
SELECT id, room_id, event_type, user_id, playlist_item_id, event_detail, created_at
FROM room_events WHERE room_id = :room_id AND id > :after ORDER BY id ASC LIMIT :limit;

-- name: fetch_room_events_before(room_id, before, limit)
-- Events before an id, newest first.
SELECT id, room_id, event_type, user_id, playlist_item_id, event_detail, created_at
FROM room_events WHERE room_id = :room_id AND id < :before ORDER BY id DESC LIMIT :limit;

-- name: fetch_room_events_latest(room_id, limit)
-- The newest events, newest first.
SELECT id, room_id, event_type, user_id, playlist_item_id, event_detail, created_at
FROM room_events WHERE room_id = :room_id ORDER BY id DESC LIMIT :limit;

-- name: fetch_room_event_bounds(room_id)^
-- The first and last event ids of a room (0 when it has none).
SELECT COALESCE(MIN(id), 0) AS first_event_id, COALESCE(MAX(id), 0) AS last_event_id
FROM room_events WHERE room_id = :room_id;

-- name: ensure_room_user_total(room_id, user_id, now)!
-- A user's zeroed totals row in a room, unless there is one (the rowcount says which).
-- dialect: mysql
INSERT INTO room_user_totals (room_id, user_id, created_at, updated_at)
VALUES (:room_id, :user_id, :now, :now)
ON DUPLICATE KEY UPDATE user_id = user_id;
-- dialect: sqlite
INSERT OR IGNORE INTO room_user_totals (room_id, user_id, created_at, updated_at)
VALUES (:room_id, :user_id, :now, :now);

-- name: add_room_participant(room_id)!
-- Count a new participant (osu-web increments participant_count on a user's first play).
UPDATE rooms SET participant_count = participant_count + 1 WHERE id = :room_id;

-- name: add_room_user_attempt(room_id, user_id, now)!
-- Count one started play of a user in a room.
UPDATE room_user_totals SET attempts = attempts + 1, updated_at = :now
WHERE room_id = :room_id AND user_id = :user_id;

-- name: ensure_item_user_best(playlist_item_id, user_id, now)!
-- A user's empty best row on an item, unless there is one.
-- dialect: mysql
INSERT INTO room_item_user_best (playlist_item_id, user_id, created_at, updated_at)
VALUES (:playlist_item_id, :user_id, :now, :now)
ON DUPLICATE KEY UPDATE user_id = user_id;
-- dialect: sqlite
INSERT OR IGNORE INTO room_item_user_best (playlist_item_id, user_id, created_at, updated_at)
VALUES (:playlist_item_id, :user_id, :now, :now);

-- name: add_item_user_attempt(playlist_item_id, user_id, now)!
-- Count one started play of a user on an item.
UPDATE room_item_user_best SET attempts = attempts + 1, updated_at = :now
WHERE playlist_item_id = :playlist_item_id AND user_id = :user_id;

-- name: fetch_item_user_best(playlist_item_id, user_id)^
-- A user's best row on an item.
SELECT playlist_item_id, user_id, score_id, total_score, accuracy, attempts
FROM room_item_user_best WHERE playlist_item_id = :playlist_item_id AND user_id = :user_id;

-- name: insert_room_score(score_id, room_id, playlist_item_id, user_id)!
-- Link a stored score to the playlist item it was played for.
INSERT INTO room_scores (score_id, room_id, playlist_item_id, user_id)
VALUES (:score_id, :room_id, :playlist_item_id, :user_id);

-- name: fetch_room_score(score_id)^
-- The item a score was played for.
SELECT score_id, room_id, playlist_item_id, user_id FROM room_scores WHERE score_id = :score_id;

-- name: raise_item_user_best(playlist_item_id, user_id, score_id, total_score, accuracy, now)!
-- Make a score the user's best on the item if it beats the current one (rowcount 1 if so).
UPDATE room_item_user_best
SET score_id = :score_id, total_score = :total_score, accuracy = :accuracy, updated_at = :now
WHERE playlist_item_id = :playlist_item_id AND user_id = :user_id
  AND total_score < :total_score;

-- name: refresh_room_user_total(room_id, user_id, now)!
-- Recompute a user's room totals from their item bests (osu-web refreshStatistics).
UPDATE room_user_totals SET
    total_score = (SELECT COALESCE(SUM(b.total_score), 0) FROM room_item_user_best b
                   JOIN room_playlist_items i ON i.id = b.playlist_item_id
                   WHERE i.room_id = :room_id AND b.user_id = :user_id
                     AND b.score_id IS NOT NULL),
    accuracy = (SELECT COALESCE(SUM(b.accuracy), 0) FROM room_item_user_best b
                JOIN room_playlist_items i ON i.id = b.playlist_item_id
                WHERE i.room_id = :room_id AND b.user_id = :user_id AND b.score_id IS NOT NULL),
    completed = (SELECT COUNT(*) FROM room_item_user_best b
                 JOIN room_playlist_items i ON i.id = b.playlist_item_id
                 WHERE i.room_id = :room_id AND b.user_id = :user_id AND b.score_id IS NOT NULL),
    last_score_id = (SELECT MAX(b.score_id) FROM room_item_user_best b
                     JOIN room_playlist_items i ON i.id = b.playlist_item_id
                     WHERE i.room_id = :room_id AND b.user_id = :user_id),
    updated_at = :now
WHERE room_id = :room_id AND user_id = :user_id;

-- name: fetch_item_scores_desc(playlist_item_id, total_score, score_id, limit)
-- An item's board (each user's best), best first, after the cursor (total_score, score_id):
-- pass a total above every score to start. Restricted users are left out.
SELECT b.user_id, b.score_id, b.total_score FROM room_item_user_best b
JOIN users u ON u.id = b.user_id
WHERE b.playlist_item_id = :playlist_item_id AND b.score_id IS NOT NULL AND u.is_restricted = 0
  AND (b.total_score < :total_score OR (b.total_score = :total_score AND b.score_id > :score_id))
ORDER BY b.total_score DESC, b.score_id ASC LIMIT :limit;

-- name: fetch_item_scores_asc(playlist_item_id, total_score, score_id, limit)
-- An item's board, lowest first, after the cursor: pass -1 as the total to start.
SELECT b.user_id, b.score_id, b.total_score FROM room_item_user_best b
JOIN users u ON u.id = b.user_id
WHERE b.playlist_item_id = :playlist_item_id AND b.score_id IS NOT NULL AND u.is_restricted = 0
  AND (b.total_score > :total_score OR (b.total_score = :total_score AND b.score_id < :score_id))
ORDER BY b.total_score ASC, b.score_id DESC LIMIT :limit;

-- name: fetch_item_scores_higher(playlist_item_id, user_id, total_score, score_id, limit)
-- Other users' bests just above a score, nearest first (osu-web scoresAround `higher`).
SELECT b.user_id, b.score_id, b.total_score FROM room_item_user_best b
JOIN users u ON u.id = b.user_id
WHERE b.playlist_item_id = :playlist_item_id AND b.score_id IS NOT NULL AND u.is_restricted = 0
  AND b.user_id <> :user_id
  AND (b.total_score > :total_score OR (b.total_score = :total_score AND b.score_id < :score_id))
ORDER BY b.total_score ASC, b.score_id DESC LIMIT :limit;

-- name: fetch_item_scores_lower(playlist_item_id, user_id, total_score, score_id, limit)
-- Other users' bests just below a score, nearest first (osu-web scoresAround `lower`).
SELECT b.user_id, b.score_id, b.total_score FROM room_item_user_best b
JOIN users u ON u.id = b.user_id
WHERE b.playlist_item_id = :playlist_item_id AND b.score_id IS NOT NULL AND u.is_restricted = 0
  AND b.user_id <> :user_id
  AND (b.total_score < :total_score OR (b.total_score = :total_score AND b.score_id > :score_id))
ORDER BY b.total_score DESC, b.score_id ASC LIMIT :limit;

-- name: count_item_scores(playlist_item_id)$
-- How many users have a best on the item (restricted users left out).
SELECT COUNT(*) FROM room_item_user_best b JOIN users u ON u.id = b.user_id
WHERE b.playlist_item_id = :playlist_item_id AND b.score_id IS NOT NULL AND u.is_restricted = 0;

-- name: fetch_item_score_position(playlist_item_id, total_score, score_id)$
-- 1 + the bests ahead of a score on its item (osu-web ScoreLink::position).
SELECT 1 + COUNT(*) FROM room_item_user_best b JOIN users u ON u.id = b.user_id
WHERE b.playlist_item_id = :playlist_item_id AND b.score_id IS NOT NULL AND u.is_restricted = 0
  AND (b.total_score > :total_score OR (b.total_score = :total_score AND b.score_id < :score_id));

-- name: fetch_item_score_ids(playlist_item_id)
-- Every score played for an item, in order.
SELECT score_id FROM room_scores WHERE playlist_item_id = :playlist_item_id ORDER BY score_id;

-- name: fetch_room_passing_scores(room_id)
-- Every passing score played in a room, oldest first (the metadata hub's item statistics,
-- osu-server-spectator's passing scores per playlist item).
SELECT l.playlist_item_id, l.score_id, s.total_score
FROM room_scores l JOIN scores s ON s.id = l.score_id
WHERE l.room_id = :room_id AND s.passed = 1
ORDER BY l.score_id;

-- name: mark_realtime_room_active(room_id, now)!
-- The host joined through the multiplayer hub: the room stays open until it is disbanded.
UPDATE rooms SET ends_at = NULL, updated_at = :now WHERE id = :room_id;

-- name: update_realtime_room_settings(room_id, name, password, type, queue_mode, auto_start_duration, auto_skip, max_participants, now)!
-- A realtime room's settings as the hub changed them (osu-server-spectator UpdateRoomSettingsAsync).
UPDATE rooms SET name = :name, password = :password, type = :type, queue_mode = :queue_mode,
                 auto_start_duration = :auto_start_duration, auto_skip = :auto_skip,
                 max_participants = :max_participants, updated_at = :now
WHERE id = :room_id;

-- name: set_room_host(room_id, user_id, now)!
-- A realtime room's new host (UpdateRoomHostAsync).
UPDATE rooms SET user_id = :user_id, updated_at = :now WHERE id = :room_id;

-- name: set_room_status(room_id, status, now)!
-- A realtime room is idle or playing (UpdateRoomStatusAsync).
UPDATE rooms SET status = :status, updated_at = :now WHERE id = :room_id;

-- name: set_room_user_in_room(room_id, user_id, in_room, now)!
-- Whether a user is inside a realtime room now (AddRoomParticipantAsync / RemoveRoomParticipantAsync).
UPDATE room_user_totals SET in_room = :in_room, updated_at = :now
WHERE room_id = :room_id AND user_id = :user_id;

-- name: update_realtime_item(item_id, owner_id, beatmap_id, ruleset_id, required_mods, allowed_mods, freestyle, expired, played_at, playlist_order, now)!
-- A realtime queue item as the hub holds it (edited, reordered, expired).
UPDATE room_playlist_items
SET owner_id = :owner_id, beatmap_id = :beatmap_id, ruleset_id = :ruleset_id,
    required_mods = :required_mods, allowed_mods = :allowed_mods, freestyle = :freestyle,
    expired = :expired, played_at = :played_at, playlist_order = :playlist_order,
    updated_at = :now
WHERE id = :item_id;

-- name: delete_playlist_item(item_id)!
-- Remove an unplayed realtime queue item.
DELETE FROM room_playlist_items WHERE id = :item_id;

-- name: count_item_attempts(playlist_item_id)$
-- How many users were given a score token for an item (RemovePlaylistItem refuses then).
SELECT COUNT(*) FROM room_item_user_best WHERE playlist_item_id = :playlist_item_id;

-- name: remove_room_participant(room_id)!
-- A user left a realtime room, whose participant_count is who is inside (RemoveRoomParticipantAsync).
UPDATE rooms SET participant_count = participant_count - 1
WHERE id = :room_id AND participant_count > 0;

-- name: fetch_room_game_events(room_id)
-- The events that bound a realtime room's games (v1 get_match), oldest first.
SELECT id, room_id, event_type, user_id, playlist_item_id, event_detail, created_at
FROM room_events
WHERE room_id = :room_id AND event_type IN ('game_started', 'game_completed', 'game_aborted')
ORDER BY id ASC;

-- name: fetch_room_match_scores(room_id)
-- Every score played in a room with what v1 get_match shows of it, oldest first.
SELECT l.playlist_item_id, s.user_id, s.total_score, s.max_combo, s.statistics,
       s.maximum_statistics, s.mods, s.passed, s.ended_at
FROM room_scores l JOIN scores s ON s.id = l.score_id
WHERE l.room_id = :room_id
ORDER BY l.score_id;

-- name: fetch_open_realtime_rooms()
-- Realtime rooms a host has opened that have not ended (the sweep of rooms nobody holds).
SELECT id FROM rooms
WHERE type IN ('head_to_head', 'team_versus') AND ends_at IS NULL
ORDER BY id;

-- name: clear_room_users_in_room(room_id, now)!
-- Nobody is inside a realtime room any more (it was closed without its users leaving).
UPDATE room_user_totals SET in_room = 0, updated_at = :now
WHERE room_id = :room_id AND in_room = 1;

-- name: clear_room_participants(room_id)!
-- A closed realtime room has nobody inside (participant_count counts who is in).
UPDATE rooms SET participant_count = 0 WHERE id = :room_id;
