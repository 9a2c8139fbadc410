//! Difficulty and performance through rosu-pp.
