-- name: search_users(pattern, exact, limit, offset)
-- Unrestricted users whose name contains a pattern (LIKE, `!` escapes), the exact name first,
-- then names that start with it, then by name.
SELECT id FROM users
WHERE is_restricted = 0 AND username_safe LIKE :pattern ESCAPE '!'
ORDER BY CASE WHEN username_safe = :exact THEN 0 ELSE 1 END, LENGTH(username_safe), username_safe
LIMIT :limit OFFSET :offset;

-- name: count_users_matching(pattern)$
-- How many unrestricted users' names contain a pattern.
SELECT COUNT(*) FROM users WHERE is_restricted = 0 AND username_safe LIKE :pattern ESCAPE '!';
