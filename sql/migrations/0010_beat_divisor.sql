-- A difficulty's beat snap divisor (the `.osu` file's [Editor] BeatDivisor), for the
-- `divisor=` filter of beatmapsets/search. Rows stored before this migration get osu!'s
-- default of 4 until their set is imported or synced again.

-- dialect: all
ALTER TABLE beatmaps ADD COLUMN beat_divisor SMALLINT NOT NULL DEFAULT 4;
