/* Difficulty and performance (rosu-pp). Declarations only: see rust_core.h.
 *
 * A beatmap is parsed once into an opaque rc_pp_beatmap handle, freed with
 * rc_pp_beatmap_free exactly once. A handle may be used from several threads at a time.
 *
 * `mode` arguments: 0 osu, 1 taiko, 2 catch, 3 mania; -1 means the beatmap's own mode.
 * `mods` arguments are JSON bytes (empty = no mods): a legacy bitmask (72), an acronym
 * string ("HDDT") or lazer's array ([{"acronym":"DT","settings":{"speed_change":1.3}}]).
 * Unknown acronyms or settings give RC_INVALID_ARGUMENT.
 *
 * Structs have all uint32_t fields first, then doubles: no padding anywhere.
 */

typedef struct rc_pp_beatmap rc_pp_beatmap;

typedef struct {
    uint32_t mode;
    uint32_t is_convert;
    uint32_t is_suspicious;  /* difficulty and performance refuse this map */
    uint32_t format_version;
    uint32_t n_objects;
    uint32_t n_circles;
    uint32_t n_sliders;
    uint32_t n_spinners;
    uint32_t n_holds;
    uint32_t max_combo;      /* unmodded, own mode; 0 when suspicious */
    double ar;
    double od;
    double cs;
    double hp;
    double bpm;
    double length_ms;        /* first object start to last object start (end for spinners/holds) */
    double drain_ms;         /* length_ms minus breaks */
} rc_pp_beatmap_info;

/* Every ruleset's difficulty attributes, tagged by mode; other rulesets' fields are 0. */
typedef struct {
    uint32_t mode;
    uint32_t is_convert;
    uint32_t max_combo;
    uint32_t n_circles;
    uint32_t n_sliders;
    uint32_t n_large_ticks;
    uint32_t n_spinners;
    uint32_t n_fruits;
    uint32_t n_droplets;
    uint32_t n_tiny_droplets;
    uint32_t n_objects;
    uint32_t n_hold_notes;
    double stars;
    double aim;
    double aim_difficult_slider_count;
    double speed;
    double flashlight;
    double slider_factor;
    double aim_top_weighted_slider_factor;
    double speed_top_weighted_slider_factor;
    double speed_note_count;
    double aim_difficult_strain_count;
    double speed_difficult_strain_count;
    double nested_score_per_object;
    double legacy_score_base_multiplier;
    double maximum_legacy_combo_score;
    double ar;
    double great_hit_window;
    double ok_hit_window;
    double meh_hit_window;
    double hp;
    double stamina;
    double rhythm;
    double color;
    double reading;
    double mono_stamina_factor;
    double mechanical_difficulty;
    double consistency_factor;
    double preempt;
} rc_pp_difficulty_attributes;

/* rc_pp_score.flags bits. */
enum {
    RC_PP_SCORE_LAZER = 1,                  /* lazer scoring; else stable */
    RC_PP_SCORE_HAS_LEGACY_TOTAL_SCORE = 2  /* legacy_total_score is set */
};

/* One play, as lazer's HitResult counts. Catch: fruits are great, droplets large ticks,
 * tiny droplets small ticks. Mania: perfect/good are the 320/200 judgements.
 * Each count must be at most 2^24. */
typedef struct {
    uint32_t perfect;
    uint32_t great;
    uint32_t good;
    uint32_t ok;
    uint32_t meh;
    uint32_t miss;
    uint32_t large_tick_hit;
    uint32_t large_tick_miss;
    uint32_t small_tick_hit;
    uint32_t small_tick_miss;
    uint32_t slider_tail_hit;
    uint32_t max_combo;
    uint32_t flags;
    uint32_t legacy_total_score;
} rc_pp_score;

/* pp of one play. Components the ruleset does not have are NaN. */
typedef struct {
    uint32_t mode;
    uint32_t max_combo;
    double stars;
    double pp;
    double pp_aim;
    double pp_speed;
    double pp_accuracy;
    double pp_flashlight;
    double pp_difficulty;
    double effective_miss_count;
    double speed_deviation;
    double estimated_unstable_rate;
} rc_pp_performance_attributes;

/* "rosu-pp 4.0.1 (osu!lazer 2025-10)": store it beside every pp value. */
rc_status rc_pp_algorithm_version(rc_buf *out);

/* "release" or "debug": bench/ refuses a debug build. */
rc_status rc_pp_build_profile(rc_buf *out);

/* Number of live rc_pp_beatmap handles (a leak check and a metric). */
rc_status rc_pp_live_beatmaps(size_t *out);

/* Parse .osu bytes. RC_TOO_LARGE over 16 MiB, RC_BEATMAP_PARSE if not an .osu file.
 * A suspicious map parses (info reports it) but difficulty/performance refuse it. */
rc_status rc_pp_beatmap_parse(const uint8_t *data, size_t len, rc_pp_beatmap **out);

void rc_pp_beatmap_free(rc_pp_beatmap *handle);

rc_status rc_pp_beatmap_get_info(const rc_pp_beatmap *handle, rc_pp_beatmap_info *out);

/* A new handle holding the map converted to `mode` (osu! maps only; RC_CONVERSION else). */
rc_status rc_pp_beatmap_convert(const rc_pp_beatmap *handle, int32_t mode,
                                const uint8_t *mods, size_t mods_len, rc_pp_beatmap **out);

/* RC_SUSPICIOUS_BEATMAP for maps the suspicion screen flags. */
rc_status rc_pp_difficulty(const rc_pp_beatmap *handle, int32_t mode,
                           const uint8_t *mods, size_t mods_len,
                           rc_pp_difficulty_attributes *out);

/* pp of one play, computing difficulty on the way. */
rc_status rc_pp_performance(const rc_pp_beatmap *handle, int32_t mode,
                            const uint8_t *mods, size_t mods_len, const rc_pp_score *score,
                            rc_pp_performance_attributes *out);

/* pp of one play from cached attributes; `mods` must be those the attributes used. */
rc_status rc_pp_performance_from_attributes(const rc_pp_difficulty_attributes *attrs,
                                            const uint8_t *mods, size_t mods_len,
                                            const rc_pp_score *score,
                                            rc_pp_performance_attributes *out);

/* pp of n plays with the same attributes and mods; out_pp receives n doubles. All scores
 * are validated before any is computed. */
rc_status rc_pp_performance_batch(const rc_pp_difficulty_attributes *attrs,
                                  const uint8_t *mods, size_t mods_len,
                                  const rc_pp_score *scores, size_t n, double *out_pp);
