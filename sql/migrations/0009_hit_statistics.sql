-- A user's hit counts per ruleset, summed from every play (failed ones too) as
-- osu-queue-score-statistics' HitStatisticsProcessor does; UserStatistics shows them as
-- count_300/count_100/count_50/count_miss. `python -m server recalc` fills them for plays
-- stored before this migration.

-- dialect: all
ALTER TABLE user_statistics ADD COLUMN count_300 BIGINT NOT NULL DEFAULT 0;

-- dialect: all
ALTER TABLE user_statistics ADD COLUMN count_100 BIGINT NOT NULL DEFAULT 0;

-- dialect: all
ALTER TABLE user_statistics ADD COLUMN count_50 BIGINT NOT NULL DEFAULT 0;

-- dialect: all
ALTER TABLE user_statistics ADD COLUMN count_miss BIGINT NOT NULL DEFAULT 0;

-- osu-web counts mania hold notes as sliders (count_sliders), not spinners; rows stored
-- before this migration had them under count_spinners (a mania map has no spinners).

-- dialect: all
UPDATE beatmaps SET count_sliders = count_sliders + count_spinners, count_spinners = 0
WHERE mode = 3;
