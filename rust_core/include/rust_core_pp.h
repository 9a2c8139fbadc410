/* Difficulty and performance (rosu-pp). Declarations only: see rust_core.h. */
