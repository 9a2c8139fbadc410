-- osu! API v1 keys (osu-web's osu_apikeys): one per user, stored only as the SHA-256 of the
-- key (the key itself is shown once, when it is made). Unlike osu-web, which keeps revoked
-- rows with `revoked = 1`, revoking deletes the row: the primary key on user_id is then the
-- "one key per user" rule, held by the database under concurrent requests.
CREATE TABLE api_keys (
    user_id INT NOT NULL PRIMARY KEY,
    key_hash CHAR(64) NOT NULL,
    app_name VARCHAR(100) NOT NULL,
    app_url VARCHAR(512) NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);
