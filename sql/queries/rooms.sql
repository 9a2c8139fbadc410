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
