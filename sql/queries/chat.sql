-- name: fetch_public_channels()
-- Channels anyone may join, as chat/channels lists them.
SELECT id, name, description, type, moderated, last_message_id
FROM chat_channels WHERE type = 'PUBLIC' ORDER BY id;

-- name: fetch_channel_by_id(channel_id)^
-- One channel.
SELECT id, name, description, type, moderated, last_message_id
FROM chat_channels WHERE id = :channel_id;

-- name: fetch_channel_by_name(name)^
-- One channel by its unique name (`#osu`, `#pm_2-3`, `#lazermp_7`).
SELECT id, name, description, type, moderated, last_message_id
FROM chat_channels WHERE name = :name;

-- name: fetch_channels_by_type(type)
-- Every channel of a type, for the CLI's listing.
SELECT id, name, description, type, moderated, last_message_id
FROM chat_channels WHERE type = :type ORDER BY id;

-- name: insert_channel(name, description, type, moderated, now)!
-- Create a channel; the unique name index refuses a second one of the same name.
INSERT INTO chat_channels (name, description, type, created_at, moderated, last_message_id)
VALUES (:name, :description, :type, :now, :moderated, NULL);

-- name: update_channel(channel_id, name, description, moderated)!
-- Rename, redescribe or (un)moderate a channel.
UPDATE chat_channels SET name = :name, description = :description, moderated = :moderated
WHERE id = :channel_id;

-- name: set_channel_last_message(channel_id, message_id)!
-- Record a channel's newest message (never moves back: two senders may commit out of order).
-- dialect: mysql
UPDATE chat_channels SET last_message_id = GREATEST(COALESCE(last_message_id, 0), :message_id)
WHERE id = :channel_id;
-- dialect: sqlite
UPDATE chat_channels SET last_message_id = MAX(COALESCE(last_message_id, 0), :message_id)
WHERE id = :channel_id;

-- name: fetch_joined_channels(user_id, limit)
-- The channels a user is in and has not hidden, with the user's read marker.
SELECT c.id, c.name, c.description, c.type, c.moderated, c.last_message_id, cu.last_read_id
FROM chat_channel_users cu JOIN chat_channels c ON c.id = cu.channel_id
WHERE cu.user_id = :user_id AND cu.hidden = 0 ORDER BY c.id LIMIT :limit;

-- name: fetch_membership(channel_id, user_id)^
-- A user's membership of a channel (hidden ones included).
SELECT channel_id, user_id, last_read_id, hidden
FROM chat_channel_users WHERE channel_id = :channel_id AND user_id = :user_id;

-- name: fetch_member_ids(channel_id)
-- Everyone in a channel, hidden or not (a message reaches a PM partner who left it).
SELECT user_id FROM chat_channel_users WHERE channel_id = :channel_id ORDER BY user_id;

-- name: join_channel(channel_id, user_id, now)!
-- Put a user in a channel (no change when already there).
-- dialect: mysql
INSERT IGNORE INTO chat_channel_users (channel_id, user_id, last_read_id, joined_at, hidden)
VALUES (:channel_id, :user_id, NULL, :now, 0);
-- dialect: sqlite
INSERT OR IGNORE INTO chat_channel_users (channel_id, user_id, last_read_id, joined_at, hidden)
VALUES (:channel_id, :user_id, NULL, :now, 0);

-- name: set_membership_hidden(channel_id, user_id, hidden)!
-- Hide a PM a user left, or show it again.
UPDATE chat_channel_users SET hidden = :hidden
WHERE channel_id = :channel_id AND user_id = :user_id;

-- name: fetch_hidden_member_ids(channel_id)
-- Members who hid a channel (a new message shows it to them again).
SELECT user_id FROM chat_channel_users WHERE channel_id = :channel_id AND hidden = 1;

-- name: unhide_channel(channel_id)!
-- Show a hideable channel again to everyone who hid it.
UPDATE chat_channel_users SET hidden = 0 WHERE channel_id = :channel_id AND hidden = 1;

-- name: leave_channel(channel_id, user_id)!
-- Take a user out of a channel.
DELETE FROM chat_channel_users WHERE channel_id = :channel_id AND user_id = :user_id;

-- name: mark_read(channel_id, user_id, message_id)!
-- Move a member's read marker forward (never back).
-- dialect: mysql
UPDATE chat_channel_users SET last_read_id = GREATEST(COALESCE(last_read_id, 0), :message_id)
WHERE channel_id = :channel_id AND user_id = :user_id;
-- dialect: sqlite
UPDATE chat_channel_users SET last_read_id = MAX(COALESCE(last_read_id, 0), :message_id)
WHERE channel_id = :channel_id AND user_id = :user_id;

-- name: insert_message(channel_id, sender_id, content, is_action, now, visible_to)!
-- Store a chat message; its id is above every earlier message's, in any channel.
INSERT INTO chat_messages (channel_id, sender_id, content, is_action, created_at, visible_to)
VALUES (:channel_id, :sender_id, :content, :is_action, :now, :visible_to);

-- name: fetch_message(message_id)^
-- One message.
SELECT id, channel_id, sender_id, content, is_action, created_at, visible_to
FROM chat_messages WHERE id = :message_id;

-- name: fetch_messages_after(channel_id, viewer_id, since, after, limit)
-- A page of a channel's messages after id `since`, oldest first, as `viewer_id` may see
-- them (others' commands left out) and no older than `after`.
SELECT id, channel_id, sender_id, content, is_action, created_at, visible_to
FROM chat_messages
WHERE channel_id = :channel_id AND id > :since AND created_at > :after
  AND (visible_to IS NULL OR visible_to = :viewer_id)
ORDER BY id LIMIT :limit;

-- name: fetch_messages_before(channel_id, viewer_id, until, after, limit)
-- A page of a channel's newest messages before id `until`, newest first.
SELECT id, channel_id, sender_id, content, is_action, created_at, visible_to
FROM chat_messages
WHERE channel_id = :channel_id AND id < :until AND created_at > :after
  AND (visible_to IS NULL OR visible_to = :viewer_id)
ORDER BY id DESC LIMIT :limit;

-- name: fetch_silences_since(since, limit)
-- Silences issued after the given id, newest first (chat/ack and chat/updates).
SELECT id, user_id FROM chat_silences WHERE id > :since ORDER BY id DESC LIMIT :limit;

-- name: count_active_silences(user_id, now)$
-- Silences of a user that have not ended.
SELECT COUNT(*) FROM chat_silences WHERE user_id = :user_id AND ends_at > :now;

-- name: insert_silence(user_id, reason, now, ends_at)!
-- Record that a user was silenced.
INSERT INTO chat_silences (user_id, reason, created_at, ends_at)
VALUES (:user_id, :reason, :now, :ends_at);

-- name: insert_report(reporter_id, user_id, reportable_type, reportable_id, reason, comments, now)!
-- Store a report for operators.
INSERT INTO reports (reporter_id, user_id, reportable_type, reportable_id, reason, comments,
                     created_at)
VALUES (:reporter_id, :user_id, :reportable_type, :reportable_id, :reason, :comments, :now);

-- name: fetch_reports(limit)
-- The newest reports, for operators.
SELECT id, reporter_id, user_id, reportable_type, reportable_id, reason, comments, created_at
FROM reports ORDER BY id DESC LIMIT :limit;

-- name: fetch_message_time_at_or_before(message_id)$
-- When the newest message with an id up to `message_id` was sent (chat/ack's `since`).
SELECT created_at FROM chat_messages WHERE id <= :message_id ORDER BY id DESC LIMIT 1;

-- name: fetch_silences_after_time(after, limit)
-- Silences issued after a time, newest first.
SELECT id, user_id FROM chat_silences WHERE created_at > :after ORDER BY id DESC LIMIT :limit;
