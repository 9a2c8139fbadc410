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

-- name: mark_notification_read(user_id, notification_id)!
-- Mark one of a user's notifications read.
UPDATE notifications SET is_read = 1
WHERE user_id = :user_id AND id = :notification_id AND is_read = 0;

-- name: mark_notifications_read_by_object(user_id, object_type, object_id)!
-- Mark a user's notifications about one object read (osu-web's identity).
UPDATE notifications SET is_read = 1
WHERE user_id = :user_id AND object_type = :object_type AND object_id = :object_id
  AND is_read = 0;

-- name: mark_notifications_read_by_type(user_id, object_type)!
-- Mark a user's notifications about every object of a type read.
UPDATE notifications SET is_read = 1
WHERE user_id = :user_id AND object_type = :object_type AND is_read = 0;
