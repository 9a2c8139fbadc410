-- name: fetch_user_by_id(user_id)^
-- One user account by id.
SELECT id, username, username_safe, email, password_hash, country_code, playmode, is_supporter,
       is_admin, is_bot, is_restricted, pm_friends_only, title, location, interests, occupation,
       twitter, discord, website, profile_colour, avatar_url, cover_url, silence_end_at,
       created_at, last_visit_at, is_moderator, totp_secret
FROM users WHERE id = :user_id;

-- name: fetch_user_by_username_safe(username_safe)^
-- One user account by its normalised name (lower case, spaces as underscores).
SELECT id, username, username_safe, email, password_hash, country_code, playmode, is_supporter,
       is_admin, is_bot, is_restricted, pm_friends_only, title, location, interests, occupation,
       twitter, discord, website, profile_colour, avatar_url, cover_url, silence_end_at,
       created_at, last_visit_at, is_moderator, totp_secret
FROM users WHERE username_safe = :username_safe;

-- name: fetch_user_id_by_email(email)$
-- The id of the account registered with this (lower-cased) email, if any.
SELECT id FROM users WHERE email = :email;

-- name: insert_user(username, username_safe, email, password_hash, country_code, now)!
-- Create an account; the unique indexes reject a taken name or email.
INSERT INTO users (username, username_safe, email, password_hash, country_code, created_at,
                   last_visit_at)
VALUES (:username, :username_safe, :email, :password_hash, :country_code, :now, :now);

-- name: update_password_hash(user_id, password_hash)!
-- Replace a stored password hash (rehash on login when the bcrypt cost changed).
UPDATE users SET password_hash = :password_hash WHERE id = :user_id;

-- name: touch_last_visit(user_id, now)!
-- Record that the user was seen now.
UPDATE users SET last_visit_at = :now WHERE id = :user_id;

-- name: is_weak_password(password_md5)$
-- 1 when the password's MD5 is on the list of passwords too common to allow.
SELECT 1 FROM weak_passwords WHERE password_md5 = :password_md5;

-- name: insert_user_statistics(user_id, ruleset)!
-- Start a user's statistics for one ruleset at zero.
INSERT INTO user_statistics (user_id, ruleset) VALUES (:user_id, :ruleset);

-- name: fetch_user_statistics(user_id)
-- Every ruleset's statistics row of one user.
SELECT user_id, ruleset, ranked_score, total_score, pp, hit_accuracy, play_count, play_time,
       total_hits, maximum_combo, replays_watched, count_ssh, count_ss, count_sh, count_s,
       count_a, count_300, count_100, count_50, count_miss
FROM user_statistics WHERE user_id = :user_id;

-- name: count_users_above_pp(ruleset, pp, user_id)$
-- How many unrestricted users rank above this one (global rank = this + 1): more pp, or as
-- much and a lower id, the rankings' own tie-break, so a profile shows its rankings place.
SELECT COUNT(*) FROM user_statistics s JOIN users u ON u.id = s.user_id
WHERE s.ruleset = :ruleset AND u.is_restricted = 0
  AND (s.pp > :pp OR (s.pp = :pp AND s.user_id < :user_id));

-- name: count_country_users_above_pp(ruleset, pp, user_id, country_code)$
-- How many unrestricted users of one country rank above this one (same tie-break).
SELECT COUNT(*) FROM user_statistics s JOIN users u ON u.id = s.user_id
WHERE s.ruleset = :ruleset AND u.country_code = :country_code AND u.is_restricted = 0
  AND (s.pp > :pp OR (s.pp = :pp AND s.user_id < :user_id));

-- name: count_ranked_users(ruleset)$
-- How many unrestricted users have pp in a ruleset (for the rank percentile).
SELECT COUNT(*) FROM user_statistics s JOIN users u ON u.id = s.user_id
WHERE s.ruleset = :ruleset AND s.pp > 0 AND u.is_restricted = 0;

-- name: fetch_profile_counts(user_id)^
-- The counters a full profile shows, in one round trip: favourite sets and followers.
SELECT (SELECT COUNT(*) FROM beatmapset_favourites f WHERE f.user_id = :user_id) AS favourites,
       (SELECT COUNT(*) FROM user_relations r
        WHERE r.target_id = :user_id AND r.kind = 'friend') AS followers;

-- name: fetch_user_ruleset_pp(user_id, ruleset)$
-- A user's pp in one ruleset (beatmap search's recommended difficulty), if they have stats.
SELECT pp FROM user_statistics WHERE user_id = :user_id AND ruleset = :ruleset;

-- name: update_totp_secret(user_id, totp_secret)!
-- Enrol (or, with NULL, remove) a user's TOTP secret.
UPDATE users SET totp_secret = :totp_secret WHERE id = :user_id;
-- name: insert_system_user(user_id, username, username_safe, email, now)!
-- Create the chat bot's account under a configured id (no password: it never signs in).
INSERT INTO users (id, username, username_safe, email, password_hash, country_code, is_bot,
                   created_at, last_visit_at)
VALUES (:user_id, :username, :username_safe, :email, '', 'XX', 1, :now, :now);

-- name: count_user_plays(user_id)$
-- A user's plays over every ruleset (osu-web's playCount, for the minimum-plays rule).
SELECT COALESCE(SUM(play_count), 0) FROM user_statistics WHERE user_id = :user_id;
