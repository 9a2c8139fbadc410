-- name: insert_account_history(user_id, actor_id, action, reason, period_seconds, now)!
-- Record a moderation action (osu-web UserAccountHistory): restriction, silence, note, ...
INSERT INTO account_history (user_id, actor_id, action, reason, period_seconds, created_at)
VALUES (:user_id, :actor_id, :action, :reason, :period_seconds, :now);

-- name: fetch_account_history(user_id)
-- A user's recorded moderation actions, newest first.
SELECT id, user_id, actor_id, action, reason, period_seconds, created_at
FROM account_history WHERE user_id = :user_id ORDER BY id DESC;

-- name: update_user_restricted(user_id, restricted)!
-- Restrict or unrestrict an account.
UPDATE users SET is_restricted = :restricted WHERE id = :user_id;

-- name: move_user_board_counts(user_id, was_restricted, delta, coarse, fine)!
-- A player's restriction changes: every best of theirs leaves (delta -1) or rejoins (+1) its
-- board's blocks, only while the account still has its former state (applied once).
-- dialect: mysql
INSERT INTO score_board_counts (beatmap_id, ruleset, grain, block, entries)
SELECT b.beatmap_id, b.ruleset, g.grain, b.total_score >> g.grain, :delta
FROM score_bests b
JOIN (SELECT :coarse AS grain UNION ALL SELECT :fine) g
JOIN users u ON u.id = b.user_id
WHERE b.user_id = :user_id AND u.is_restricted = :was_restricted
ON DUPLICATE KEY UPDATE entries = entries + VALUES(entries);
-- dialect: sqlite
INSERT INTO score_board_counts (beatmap_id, ruleset, grain, block, entries)
SELECT b.beatmap_id, b.ruleset, g.grain, b.total_score >> g.grain, :delta
FROM score_bests b
JOIN (SELECT :coarse AS grain UNION ALL SELECT :fine) g
JOIN users u ON u.id = b.user_id
WHERE b.user_id = :user_id AND u.is_restricted = :was_restricted
ON CONFLICT (beatmap_id, ruleset, grain, block) DO UPDATE SET entries = entries + excluded.entries;

-- name: update_user_silence_end(user_id, ends_at)!
-- Set (or clear, with NULL) when a user's silence ends.
UPDATE users SET silence_end_at = :ends_at WHERE id = :user_id;

-- name: update_user_roles(user_id, is_admin, is_moderator, is_bot)!
-- Set an account's roles.
UPDATE users SET is_admin = :is_admin, is_moderator = :is_moderator, is_bot = :is_bot
WHERE id = :user_id;

-- name: update_username(user_id, username, username_safe)!
-- Rename an account (the unique index refuses a name taken meanwhile).
UPDATE users SET username = :username, username_safe = :username_safe WHERE id = :user_id;

-- name: insert_username_history(user_id, username_last, username_last_safe, username, now)!
-- Remember a user's previous name (osu-web username_change_history).
INSERT INTO username_history (user_id, username_last, username_last_safe, username, created_at)
VALUES (:user_id, :username_last, :username_last_safe, :username, :now);

-- name: fetch_previous_usernames(user_id)
-- A user's previous names, oldest first.
SELECT username_last FROM username_history WHERE user_id = :user_id ORDER BY id;

-- name: fetch_user_id_by_previous_username(username_safe)$
-- The account that most recently gave up this (normalised) name.
SELECT user_id FROM username_history WHERE username_last_safe = :username_safe
ORDER BY id DESC LIMIT 1;

-- name: fetch_user_boards(user_id)
-- Every leaderboard (beatmap, ruleset) a user has a best on.
SELECT beatmap_id, ruleset FROM score_bests WHERE user_id = :user_id;

-- name: end_user_silences(user_id, now)!
-- End a user's running chat silences now (unsilence).
UPDATE chat_silences SET ends_at = :now WHERE user_id = :user_id AND ends_at > :now;
