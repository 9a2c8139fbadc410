-- name: fetch_public_channels()
-- Channels anyone may join, as chat/channels lists them.
SELECT c.id, c.name, c.description, c.type,
       (SELECT MAX(m.id) FROM chat_messages m WHERE m.channel_id = c.id) AS last_message_id
FROM chat_channels c WHERE c.type = 'PUBLIC' ORDER BY c.id;

-- name: fetch_joined_channels(user_id)
-- The channels a user is in, with their last message and the user's read marker.
SELECT c.id, c.name, c.description, c.type, cu.last_read_id,
       (SELECT MAX(m.id) FROM chat_messages m WHERE m.channel_id = c.id) AS last_message_id
FROM chat_channel_users cu JOIN chat_channels c ON c.id = cu.channel_id
WHERE cu.user_id = :user_id ORDER BY c.id;

-- name: fetch_messages_since(user_id, since, limit)
-- Messages after `since` in the channels a user is in, oldest first.
SELECT m.id, m.channel_id, m.sender_id, m.content, m.is_action, m.created_at
FROM chat_messages m JOIN chat_channel_users cu ON cu.channel_id = m.channel_id
WHERE cu.user_id = :user_id AND m.id > :since
ORDER BY m.id LIMIT :limit;

-- name: fetch_silences_since(since, limit)
-- Silences issued after the given id, oldest first (chat/ack and chat/updates).
SELECT id, user_id FROM chat_silences WHERE id > :since ORDER BY id LIMIT :limit;

-- name: join_channel(channel_id, user_id, now)!
-- Put a user in a channel (no change when already there).
-- dialect: mysql
INSERT IGNORE INTO chat_channel_users (channel_id, user_id, last_read_id, joined_at)
VALUES (:channel_id, :user_id, NULL, :now);
-- dialect: sqlite
INSERT OR IGNORE INTO chat_channel_users (channel_id, user_id, last_read_id, joined_at)
VALUES (:channel_id, :user_id, NULL, :now);

-- name: insert_message(channel_id, sender_id, content, is_action, now)!
-- Store a chat message.
INSERT INTO chat_messages (channel_id, sender_id, content, is_action, created_at)
VALUES (:channel_id, :sender_id, :content, :is_action, :now);

-- name: insert_silence(user_id, reason, now, ends_at)!
-- Record that a user was silenced.
INSERT INTO chat_silences (user_id, reason, created_at, ends_at)
VALUES (:user_id, :reason, :now, :ends_at);
