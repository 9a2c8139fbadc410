-- Chat (issue 12): channels as data, hideable memberships, command-only messages, reports.
--
-- `chat_channels.moderated`: nobody but moderators may write (osu-web's `moderated`).
-- `chat_channels.last_message_id`: kept with each message, as osu-web keeps it, so channel
-- lists need no MAX() over the messages.
-- `chat_channel_users.hidden`: a PM a user left is hidden, not deleted, and comes back with
-- the next message (osu-web's UserChannel.hidden).
-- `chat_messages.visible_to`: NULL for everyone; a user id for a `!command` and the bot's
-- answer to it, which only that user sees (osu-web's Message::isUserCommand filter, kept as
-- data so the bot's answers follow the same rule).
-- `chat_reports`: POST reports, stored for operators.

-- dialect: all
ALTER TABLE chat_channels ADD COLUMN moderated TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE chat_channels ADD COLUMN last_message_id BIGINT NULL;
ALTER TABLE chat_channel_users ADD COLUMN hidden TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE chat_messages ADD COLUMN visible_to INT NULL;

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

-- #announce is a public channel only moderators write to (it was seeded as ANNOUNCE, which
-- osu-web reserves for one-off announcement conversations nobody can join); #lobby joins
-- the defaults.
UPDATE chat_channels SET type = 'PUBLIC', moderated = 1 WHERE name = '#announce';
UPDATE chat_channels SET last_message_id = (
    SELECT MAX(m.id) FROM chat_messages m WHERE m.channel_id = chat_channels.id
);
INSERT INTO chat_channels (name, description, type, created_at, moderated)
SELECT '#lobby', 'Looking for a multiplayer game.', 'PUBLIC', CURRENT_TIMESTAMP, 0
WHERE NOT EXISTS (SELECT 1 FROM chat_channels WHERE name = '#lobby');
