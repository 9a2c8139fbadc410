-- name: fetch_packs(tag_prefix, before_id, limit)
-- Visible packs of one type (tag prefix), newest first, below an id (the cursor).
SELECT id, tag, name, author, url, date, ruleset_id, no_diff_reduction FROM beatmap_packs
WHERE hidden = 0 AND tag LIKE :tag_prefix AND id < :before_id
ORDER BY id DESC LIMIT :limit;

-- name: fetch_pack(tag)^
-- One visible pack by tag.
SELECT id, tag, name, author, url, date, ruleset_id, no_diff_reduction FROM beatmap_packs
WHERE hidden = 0 AND tag = :tag;

-- name: fetch_pack_set_ids(pack_id)
-- The beatmapsets of a pack.
SELECT beatmapset_id FROM beatmap_pack_items WHERE pack_id = :pack_id ORDER BY beatmapset_id;

-- name: insert_pack(tag, name, author, url, date, ruleset_id, no_diff_reduction)!
-- Define a pack.
INSERT INTO beatmap_packs (tag, name, author, url, date, ruleset_id, no_diff_reduction, hidden)
VALUES (:tag, :name, :author, :url, :date, :ruleset_id, :no_diff_reduction, 0);

-- name: insert_pack_item(pack_id, beatmapset_id)!
-- Put a beatmapset in a pack.
INSERT INTO beatmap_pack_items (pack_id, beatmapset_id) VALUES (:pack_id, :beatmapset_id);

-- name: delete_pack_items(tag)!
-- Empty a pack (before deleting it).
DELETE FROM beatmap_pack_items WHERE pack_id IN (SELECT id FROM beatmap_packs WHERE tag = :tag);

-- name: delete_pack(tag)!
-- Delete a pack.
DELETE FROM beatmap_packs WHERE tag = :tag;
