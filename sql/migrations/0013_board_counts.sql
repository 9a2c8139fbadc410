-- Leaderboard sizes and positions without counting the board: each (beatmap, ruleset) board's
-- unrestricted bests are counted per block of totals at two grains. A block at grain g holds
-- the totals [block << g, (block + 1) << g). The board's size is the sum of its coarse (16)
-- blocks; a position sums the coarse blocks above, the fine (8) blocks above within its coarse
-- block, and counts the bests above it in its own fine block alone. Kept in the transaction
-- that changes score_bests, and on restriction and its lifting.

-- dialect: all
CREATE TABLE score_board_counts (
    beatmap_id INT NOT NULL,
    ruleset VARCHAR(16) NOT NULL,
    grain SMALLINT NOT NULL,
    block BIGINT NOT NULL,
    entries INT NOT NULL,
    PRIMARY KEY (beatmap_id, ruleset, grain, block)
);

INSERT INTO score_board_counts (beatmap_id, ruleset, grain, block, entries)
SELECT b.beatmap_id, b.ruleset, 16, b.total_score >> 16, COUNT(*)
FROM score_bests b JOIN users u ON u.id = b.user_id
WHERE u.is_restricted = 0
GROUP BY b.beatmap_id, b.ruleset, b.total_score >> 16;

INSERT INTO score_board_counts (beatmap_id, ruleset, grain, block, entries)
SELECT b.beatmap_id, b.ruleset, 8, b.total_score >> 8, COUNT(*)
FROM score_bests b JOIN users u ON u.id = b.user_id
WHERE u.is_restricted = 0
GROUP BY b.beatmap_id, b.ruleset, b.total_score >> 8;
