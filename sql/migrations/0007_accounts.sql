-- Accounts (issue 16): the moderator role beside admin and bot, the account history every
-- moderation action is recorded in (osu-web UserAccountHistory: restriction, silence, note),
-- previous usernames (osu-web username_change_history), by which an old name still
-- resolves, a user's TOTP secret, and whether a token's sign-in is verified (session
-- verification; tokens issued before it existed count as verified).

-- dialect: all
ALTER TABLE users ADD COLUMN is_moderator TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_secret VARCHAR(64) NULL;
ALTER TABLE oauth_access_tokens ADD COLUMN verified TINYINT(1) NOT NULL DEFAULT 1;
ALTER TABLE oauth_refresh_tokens ADD COLUMN verified TINYINT(1) NOT NULL DEFAULT 1;

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
