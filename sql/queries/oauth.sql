-- name: fetch_oauth_client(client_id)^
-- One OAuth client by id.
SELECT id, name, owner_user_id, password_client, revoked, redirect FROM oauth_clients
WHERE id = :client_id;

-- name: client_secret_matches(client_id, secret_sha256)$
-- 1 when the hashed secret is one of the client's secrets.
SELECT 1 FROM oauth_client_secrets
WHERE client_id = :client_id AND secret_sha256 = :secret_sha256;

-- name: insert_oauth_client(name, owner_user_id, password_client, redirect, now)!
-- Register an OAuth client (`redirect`: its redirect URIs, separated by spaces).
INSERT INTO oauth_clients (name, owner_user_id, password_client, redirect, revoked, created_at)
VALUES (:name, :owner_user_id, :password_client, :redirect, 0, :now);

-- name: insert_client_secret(client_id, secret_sha256)!
-- Add a secret (stored as its hash) to a client.
INSERT INTO oauth_client_secrets (client_id, secret_sha256) VALUES (:client_id, :secret_sha256);

-- name: insert_access_token(token_sha256, user_id, client_id, scopes, family_id, now, expires_at, verified)!
-- Store a newly issued access token by its hash (`verified` 0: its sign-in awaits session
-- verification).
INSERT INTO oauth_access_tokens (token_sha256, user_id, client_id, scopes, family_id, revoked,
                                 created_at, expires_at, verified)
VALUES (:token_sha256, :user_id, :client_id, :scopes, :family_id, 0, :now, :expires_at,
        :verified);

-- name: insert_refresh_token(token_sha256, access_token_sha256, family_id, user_id, client_id, scopes, now, expires_at, verified)!
-- Store a newly issued refresh token by its hash (`verified` as its access token's).
INSERT INTO oauth_refresh_tokens (token_sha256, access_token_sha256, family_id, user_id,
                                  client_id, scopes, rotated, revoked, created_at, expires_at,
                                  verified)
VALUES (:token_sha256, :access_token_sha256, :family_id, :user_id, :client_id, :scopes, 0, 0,
        :now, :expires_at, :verified);

-- name: fetch_access_token(token_sha256)^
-- An access token's stored record, with whether its client is still active.
SELECT t.token_sha256, t.user_id, t.client_id, t.scopes, t.family_id, t.revoked, t.expires_at,
       t.verified, c.revoked AS client_revoked
FROM oauth_access_tokens t JOIN oauth_clients c ON c.id = t.client_id
WHERE t.token_sha256 = :token_sha256;

-- name: fetch_refresh_token(token_sha256)^
-- A refresh token's stored record.
SELECT token_sha256, access_token_sha256, family_id, user_id, client_id, scopes, rotated,
       revoked, expires_at, verified
FROM oauth_refresh_tokens WHERE token_sha256 = :token_sha256;

-- name: claim_refresh_token(token_sha256)!
-- Mark a refresh token used; changes no row when it was used or revoked already.
UPDATE oauth_refresh_tokens SET rotated = 1
WHERE token_sha256 = :token_sha256 AND rotated = 0 AND revoked = 0;

-- name: revoke_access_token(token_sha256)!
-- Revoke one access token.
UPDATE oauth_access_tokens SET revoked = 1 WHERE token_sha256 = :token_sha256;

-- name: fetch_family_access_tokens(family_id)
-- Hashes of every access token of a sign-in family (to evict them from the cache).
SELECT token_sha256 FROM oauth_access_tokens WHERE family_id = :family_id;

-- name: revoke_family_access_tokens(family_id)!
-- Revoke every access token of a sign-in family.
UPDATE oauth_access_tokens SET revoked = 1 WHERE family_id = :family_id;

-- name: revoke_family_refresh_tokens(family_id)!
-- Revoke every refresh token of a sign-in family.
UPDATE oauth_refresh_tokens SET revoked = 1 WHERE family_id = :family_id;

-- name: fetch_user_access_tokens(user_id)
-- Hashes of every access token of a user (to evict them from the cache).
SELECT token_sha256 FROM oauth_access_tokens WHERE user_id = :user_id AND revoked = 0;

-- name: revoke_user_access_tokens(user_id)!
-- Revoke every access token of a user.
UPDATE oauth_access_tokens SET revoked = 1 WHERE user_id = :user_id;

-- name: revoke_user_refresh_tokens(user_id)!
-- Revoke every refresh token of a user.
UPDATE oauth_refresh_tokens SET revoked = 1 WHERE user_id = :user_id;

-- name: delete_expired_access_tokens(now)!
-- Drop access tokens past their expiry.
DELETE FROM oauth_access_tokens WHERE expires_at < :now;

-- name: delete_expired_refresh_tokens(now)!
-- Drop refresh tokens past their expiry.
DELETE FROM oauth_refresh_tokens WHERE expires_at < :now;

-- name: fetch_other_access_tokens(user_id, family_id)
-- Hashes of a user's live access tokens outside one sign-in family (to evict them).
SELECT token_sha256 FROM oauth_access_tokens
WHERE user_id = :user_id AND family_id != :family_id AND revoked = 0;

-- name: revoke_other_access_tokens(user_id, family_id)!
-- Revoke a user's access tokens outside one sign-in family (password change keeps its own).
UPDATE oauth_access_tokens SET revoked = 1 WHERE user_id = :user_id AND family_id != :family_id;

-- name: revoke_other_refresh_tokens(user_id, family_id)!
-- Revoke a user's refresh tokens outside one sign-in family.
UPDATE oauth_refresh_tokens SET revoked = 1 WHERE user_id = :user_id AND family_id != :family_id;

-- name: fetch_user_oauth_clients(user_id)
-- The live OAuth clients a user owns, oldest first.
SELECT id, name, owner_user_id, password_client, revoked, redirect FROM oauth_clients
WHERE owner_user_id = :user_id AND revoked = 0 ORDER BY id;

-- name: update_oauth_client(client_id, name, redirect)!
-- Rename a client and replace its redirect URIs.
UPDATE oauth_clients SET name = :name, redirect = :redirect WHERE id = :client_id;

-- name: revoke_oauth_client(client_id)!
-- Delete a client (kept as revoked: its tokens stop working with it).
UPDATE oauth_clients SET revoked = 1 WHERE id = :client_id;

-- name: delete_client_secrets(client_id)!
-- Forget a client's secrets (before a new one is set).
DELETE FROM oauth_client_secrets WHERE client_id = :client_id;

-- name: fetch_client_access_tokens(client_id)
-- Hashes of a client's live access tokens (to evict them when it is deleted).
SELECT token_sha256 FROM oauth_access_tokens WHERE client_id = :client_id AND revoked = 0;

-- name: fetch_authorized_clients(user_id, now)
-- The clients a user has live tokens for, with the scopes granted (one row per token).
SELECT c.id, c.name, c.owner_user_id, t.scopes
FROM oauth_access_tokens t JOIN oauth_clients c ON c.id = t.client_id
WHERE t.user_id = :user_id AND t.revoked = 0 AND t.expires_at > :now AND c.revoked = 0
  AND c.password_client = 0
ORDER BY c.id;

-- name: fetch_user_client_access_tokens(user_id, client_id)
-- Hashes of a user's live access tokens for one client.
SELECT token_sha256 FROM oauth_access_tokens
WHERE user_id = :user_id AND client_id = :client_id AND revoked = 0;

-- name: revoke_user_client_access_tokens(user_id, client_id)!
-- Revoke a user's access tokens for one client (revoking an authorized app).
UPDATE oauth_access_tokens SET revoked = 1 WHERE user_id = :user_id AND client_id = :client_id;

-- name: revoke_user_client_refresh_tokens(user_id, client_id)!
-- Revoke a user's refresh tokens for one client.
UPDATE oauth_refresh_tokens SET revoked = 1 WHERE user_id = :user_id AND client_id = :client_id;

-- name: verify_family_access_tokens(family_id)!
-- Mark a sign-in family's access tokens verified (session verification passed).
UPDATE oauth_access_tokens SET verified = 1 WHERE family_id = :family_id;

-- name: verify_family_refresh_tokens(family_id)!
-- Mark a sign-in family's refresh tokens verified (what they issue is verified too).
UPDATE oauth_refresh_tokens SET verified = 1 WHERE family_id = :family_id;
