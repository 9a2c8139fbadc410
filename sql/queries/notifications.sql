-- name: fetch_recent_notifications(user_id, limit)
-- A user's newest notifications (ask for one more than shown to learn has_more).
SELECT id, name, object_type, object_id, source_user_id, details, is_read, created_at
FROM notifications WHERE user_id = :user_id ORDER BY id DESC LIMIT :limit;

-- name: count_unread_notifications(user_id)$
-- How many of a user's notifications are unread.
SELECT COUNT(*) FROM notifications WHERE user_id = :user_id AND is_read = 0;

-- name: insert_notification(user_id, name, object_type, object_id, source_user_id, details, now)!
-- Store a notification for one user.
INSERT INTO notifications (user_id, name, object_type, object_id, source_user_id, details,
                           is_read, created_at)
VALUES (:user_id, :name, :object_type, :object_id, :source_user_id, :details, 0, :now);
