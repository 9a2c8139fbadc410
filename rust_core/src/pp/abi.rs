//! The `#[repr(C)]` structs of the pp ABI and their conversions to and from rosu-pp types.
//!
//! Layouts have no padding (all `u32` fields first, in an even number, then `f64`s) so the
//! Python side can pack and unpack them with `struct` in one call; the header
//! `include/rust_core_pp.h` declares the same fields in the same order.

use rosu_pp::any::{DifficultyAttributes, PerformanceAttributes, ScoreState};
use rosu_pp::catch::CatchDifficultyAttributes;
use rosu_pp::mania::ManiaDifficultyAttributes;
use rosu_pp::model::mode::GameMode;
use rosu_pp::osu::OsuDifficultyAttributes;
use rosu_pp::taiko::TaikoDifficultyAttributes;

use crate::ffi::CoreError;

/// Upper bound for each hit count. Far above any real score (the largest non-suspicious map
/// has 500k objects), and low enough that rosu-pp's sums like `6 * (n300 + n100 + n50 +
/// misses)` cannot overflow `u32`.
pub const MAX_HIT_COUNT: u32 = 1 << 24;

/// `rc_pp_beatmap_info`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RcPpBeatmapInfo {
    pub mode: u32,
    pub is_convert: u32,
    pub is_suspicious: u32,
    pub format_version: u32,
    pub n_objects: u32,
    pub n_circles: u32,
    pub n_sliders: u32,
    pub n_spinners: u32,
    pub n_holds: u32,
    pub max_combo: u32,
    pub ar: f64,
    pub od: f64,
    pub cs: f64,
    pub hp: f64,
    pub bpm: f64,
    pub length_ms: f64,
    pub drain_ms: f64,
}

/// `rc_pp_difficulty_attributes`: every ruleset's fields, tagged by `mode`; fields of other
/// rulesets are zero.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RcPpDifficultyAttributes {
    pub mode: u32,
    pub is_convert: u32,
    pub max_combo: u32,
    pub n_circles: u32,
    pub n_sliders: u32,
    pub n_large_ticks: u32,
    pub n_spinners: u32,
    pub n_fruits: u32,
    pub n_droplets: u32,
    pub n_tiny_droplets: u32,
    pub n_objects: u32,
    pub n_hold_notes: u32,
    pub stars: f64,
    // osu! (great/ok hit windows are shared with taiko)
    pub aim: f64,
    pub aim_difficult_slider_count: f64,
    pub speed: f64,
    pub flashlight: f64,
    pub slider_factor: f64,
    pub aim_top_weighted_slider_factor: f64,
    pub speed_top_weighted_slider_factor: f64,
    pub speed_note_count: f64,
    pub aim_difficult_strain_count: f64,
    pub speed_difficult_strain_count: f64,
    pub nested_score_per_object: f64,
    pub legacy_score_base_multiplier: f64,
    pub maximum_legacy_combo_score: f64,
    pub ar: f64,
    pub great_hit_window: f64,
    pub ok_hit_window: f64,
    pub meh_hit_window: f64,
    pub hp: f64,
    // taiko
    pub stamina: f64,
    pub rhythm: f64,
    pub color: f64,
    pub reading: f64,
    pub mono_stamina_factor: f64,
    pub mechanical_difficulty: f64,
    pub consistency_factor: f64,
    // catch
    pub preempt: f64,
}

/// `rc_pp_score`: one play as lazer reports it (HitResult counts), plus combo and flags.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RcPpScore {
    pub perfect: u32,
    pub great: u32,
    pub good: u32,
    pub ok: u32,
    pub meh: u32,
    pub miss: u32,
    pub large_tick_hit: u32,
    pub large_tick_miss: u32,
    pub small_tick_hit: u32,
    pub small_tick_miss: u32,
    pub slider_tail_hit: u32,
    pub max_combo: u32,
    pub flags: u32,
    pub legacy_total_score: u32,
}

/// `flags` bit: the score was set with lazer scoring (else stable scoring).
pub const SCORE_LAZER: u32 = 1;
/// `flags` bit: `legacy_total_score` holds the stable total score.
pub const SCORE_HAS_LEGACY_TOTAL_SCORE: u32 = 2;

/// `rc_pp_performance_attributes`. Components a ruleset does not have are NaN.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RcPpPerformanceAttributes {
    pub mode: u32,
    pub max_combo: u32,
    pub stars: f64,
    pub pp: f64,
    pub pp_aim: f64,
    pub pp_speed: f64,
    pub pp_accuracy: f64,
    pub pp_flashlight: f64,
    pub pp_difficulty: f64,
    pub effective_miss_count: f64,
    pub speed_deviation: f64,
    pub estimated_unstable_rate: f64,
}

pub fn attrs_mode(attrs: &DifficultyAttributes) -> GameMode {
    match attrs {
        DifficultyAttributes::Osu(_) => GameMode::Osu,
        DifficultyAttributes::Taiko(_) => GameMode::Taiko,
        DifficultyAttributes::Catch(_) => GameMode::Catch,
        DifficultyAttributes::Mania(_) => GameMode::Mania,
    }
}

impl RcPpScore {
    pub fn validate(&self) -> Result<(), CoreError> {
        let counts = [
            ("perfect", self.perfect),
            ("great", self.great),
            ("good", self.good),
            ("ok", self.ok),
            ("meh", self.meh),
            ("miss", self.miss),
            ("large_tick_hit", self.large_tick_hit),
            ("large_tick_miss", self.large_tick_miss),
            ("small_tick_hit", self.small_tick_hit),
            ("small_tick_miss", self.small_tick_miss),
            ("slider_tail_hit", self.slider_tail_hit),
            ("max_combo", self.max_combo),
        ];
        for (name, value) in counts {
            if value > MAX_HIT_COUNT {
                return Err(CoreError::invalid(format!("{name} = {value} exceeds {MAX_HIT_COUNT}")));
            }
        }
        if self.flags & !(SCORE_LAZER | SCORE_HAS_LEGACY_TOTAL_SCORE) != 0 {
            return Err(CoreError::invalid(format!("unknown score flags {:#x}", self.flags)));
        }
        Ok(())
    }

    pub fn is_lazer(&self) -> bool {
        self.flags & SCORE_LAZER != 0
    }

    pub fn legacy_total_score(&self) -> Option<u32> {
        (self.flags & SCORE_HAS_LEGACY_TOTAL_SCORE != 0).then_some(self.legacy_total_score)
    }

    /// Map lazer's HitResults onto rosu-pp's per-ruleset counters, the way osu-tools and
    /// lazer's own performance calculators read them: catch fruits are Great, droplets
    /// LargeTick, tiny droplets SmallTick (a missed droplet is a miss); mania Perfect/Good
    /// are geki/katu.
    pub fn to_state(&self, mode: GameMode) -> ScoreState {
        let mut state = ScoreState::new();
        state.max_combo = self.max_combo;
        state.legacy_total_score = self.legacy_total_score();
        match mode {
            GameMode::Osu => {
                state.n300 = self.great;
                state.n100 = self.ok;
                state.n50 = self.meh;
                state.misses = self.miss;
                state.osu_large_tick_hits = self.large_tick_hit;
                state.osu_small_tick_hits = self.small_tick_hit;
                state.slider_end_hits = self.slider_tail_hit;
            }
            GameMode::Taiko => {
                state.n300 = self.great;
                state.n100 = self.ok;
                state.misses = self.miss;
            }
            GameMode::Catch => {
                state.n300 = self.great;
                state.n100 = self.large_tick_hit;
                state.n50 = self.small_tick_hit;
                state.n_katu = self.small_tick_miss;
                state.misses = self.miss + self.large_tick_miss;
            }
            GameMode::Mania => {
                state.n_geki = self.perfect;
                state.n300 = self.great;
                state.n_katu = self.good;
                state.n100 = self.ok;
                state.n50 = self.meh;
                state.misses = self.miss;
            }
        }
        state
    }
}

impl RcPpDifficultyAttributes {
    pub fn from_rosu(attrs: &DifficultyAttributes) -> Self {
        let mut out = Self { mode: attrs_mode(attrs) as u32, ..Self::default() };
        match attrs {
            DifficultyAttributes::Osu(a) => {
                out.max_combo = a.max_combo;
                out.n_circles = a.n_circles;
                out.n_sliders = a.n_sliders;
                out.n_large_ticks = a.n_large_ticks;
                out.n_spinners = a.n_spinners;
                out.stars = a.stars;
                out.aim = a.aim;
                out.aim_difficult_slider_count = a.aim_difficult_slider_count;
                out.speed = a.speed;
                out.flashlight = a.flashlight;
                out.slider_factor = a.slider_factor;
                out.aim_top_weighted_slider_factor = a.aim_top_weighted_slider_factor;
                out.speed_top_weighted_slider_factor = a.speed_top_weighted_slider_factor;
                out.speed_note_count = a.speed_note_count;
                out.aim_difficult_strain_count = a.aim_difficult_strain_count;
                out.speed_difficult_strain_count = a.speed_difficult_strain_count;
                out.nested_score_per_object = a.nested_score_per_object;
                out.legacy_score_base_multiplier = a.legacy_score_base_multiplier;
                out.maximum_legacy_combo_score = a.maximum_legacy_combo_score;
                out.ar = a.ar;
                out.great_hit_window = a.great_hit_window;
                out.ok_hit_window = a.ok_hit_window;
                out.meh_hit_window = a.meh_hit_window;
                out.hp = a.hp;
            }
            DifficultyAttributes::Taiko(a) => {
                out.is_convert = u32::from(a.is_convert);
                out.max_combo = a.max_combo;
                out.stars = a.stars;
                out.stamina = a.stamina;
                out.rhythm = a.rhythm;
                out.color = a.color;
                out.reading = a.reading;
                out.great_hit_window = a.great_hit_window;
                out.ok_hit_window = a.ok_hit_window;
                out.mono_stamina_factor = a.mono_stamina_factor;
                out.mechanical_difficulty = a.mechanical_difficulty;
                out.consistency_factor = a.consistency_factor;
            }
            DifficultyAttributes::Catch(a) => {
                out.is_convert = u32::from(a.is_convert);
                out.max_combo = a.max_combo();
                out.stars = a.stars;
                out.preempt = a.preempt;
                out.n_fruits = a.n_fruits;
                out.n_droplets = a.n_droplets;
                out.n_tiny_droplets = a.n_tiny_droplets;
            }
            DifficultyAttributes::Mania(a) => {
                out.is_convert = u32::from(a.is_convert);
                out.max_combo = a.max_combo;
                out.stars = a.stars;
                out.n_objects = a.n_objects;
                out.n_hold_notes = a.n_hold_notes;
            }
        }
        out
    }

    /// Rebuild rosu-pp's attributes. Values come from the caller (a cache), so the mode tag
    /// and counts are checked; the floats are taken as given.
    pub fn to_rosu(&self) -> Result<DifficultyAttributes, CoreError> {
        let counts = [
            self.max_combo,
            self.n_circles,
            self.n_sliders,
            self.n_large_ticks,
            self.n_spinners,
            self.n_fruits,
            self.n_droplets,
            self.n_tiny_droplets,
            self.n_objects,
            self.n_hold_notes,
        ];
        if counts.iter().any(|&c| c > MAX_HIT_COUNT) {
            return Err(CoreError::invalid("difficulty attributes hold an object count out of range"));
        }
        let is_convert = match self.is_convert {
            0 => false,
            1 => true,
            other => return Err(CoreError::invalid(format!("is_convert must be 0 or 1, got {other}"))),
        };
        let attrs = match self.mode {
            0 => DifficultyAttributes::Osu(OsuDifficultyAttributes {
                aim: self.aim,
                aim_difficult_slider_count: self.aim_difficult_slider_count,
                speed: self.speed,
                flashlight: self.flashlight,
                slider_factor: self.slider_factor,
                aim_top_weighted_slider_factor: self.aim_top_weighted_slider_factor,
                speed_top_weighted_slider_factor: self.speed_top_weighted_slider_factor,
                speed_note_count: self.speed_note_count,
                aim_difficult_strain_count: self.aim_difficult_strain_count,
                speed_difficult_strain_count: self.speed_difficult_strain_count,
                nested_score_per_object: self.nested_score_per_object,
                legacy_score_base_multiplier: self.legacy_score_base_multiplier,
                maximum_legacy_combo_score: self.maximum_legacy_combo_score,
                ar: self.ar,
                great_hit_window: self.great_hit_window,
                ok_hit_window: self.ok_hit_window,
                meh_hit_window: self.meh_hit_window,
                hp: self.hp,
                n_circles: self.n_circles,
                n_sliders: self.n_sliders,
                n_large_ticks: self.n_large_ticks,
                n_spinners: self.n_spinners,
                stars: self.stars,
                max_combo: self.max_combo,
            }),
            1 => DifficultyAttributes::Taiko(TaikoDifficultyAttributes {
                stamina: self.stamina,
                rhythm: self.rhythm,
                color: self.color,
                reading: self.reading,
                great_hit_window: self.great_hit_window,
                ok_hit_window: self.ok_hit_window,
                mono_stamina_factor: self.mono_stamina_factor,
                mechanical_difficulty: self.mechanical_difficulty,
                consistency_factor: self.consistency_factor,
                stars: self.stars,
                max_combo: self.max_combo,
                is_convert,
            }),
            2 => DifficultyAttributes::Catch(CatchDifficultyAttributes {
                stars: self.stars,
                preempt: self.preempt,
                n_fruits: self.n_fruits,
                n_droplets: self.n_droplets,
                n_tiny_droplets: self.n_tiny_droplets,
                is_convert,
            }),
            3 => DifficultyAttributes::Mania(ManiaDifficultyAttributes {
                stars: self.stars,
                n_objects: self.n_objects,
                n_hold_notes: self.n_hold_notes,
                max_combo: self.max_combo,
                is_convert,
            }),
            other => return Err(CoreError::invalid(format!("unknown ruleset {other} in attributes"))),
        };
        Ok(attrs)
    }
}

impl RcPpPerformanceAttributes {
    pub fn from_rosu(attrs: &PerformanceAttributes) -> Self {
        let mut out = Self {
            mode: 0,
            max_combo: attrs.max_combo(),
            stars: attrs.stars(),
            pp: attrs.pp(),
            pp_aim: f64::NAN,
            pp_speed: f64::NAN,
            pp_accuracy: f64::NAN,
            pp_flashlight: f64::NAN,
            pp_difficulty: f64::NAN,
            effective_miss_count: f64::NAN,
            speed_deviation: f64::NAN,
            estimated_unstable_rate: f64::NAN,
        };
        match attrs {
            PerformanceAttributes::Osu(a) => {
                out.mode = GameMode::Osu as u32;
                out.pp_aim = a.pp_aim;
                out.pp_speed = a.pp_speed;
                out.pp_accuracy = a.pp_acc;
                out.pp_flashlight = a.pp_flashlight;
                out.effective_miss_count = a.effective_miss_count;
                out.speed_deviation = a.speed_deviation.unwrap_or(f64::NAN);
            }
            PerformanceAttributes::Taiko(a) => {
                out.mode = GameMode::Taiko as u32;
                out.pp_accuracy = a.pp_acc;
                out.pp_difficulty = a.pp_difficulty;
                out.estimated_unstable_rate = a.estimated_unstable_rate.unwrap_or(f64::NAN);
            }
            PerformanceAttributes::Catch(_) => out.mode = GameMode::Catch as u32,
            PerformanceAttributes::Mania(a) => {
                out.mode = GameMode::Mania as u32;
                out.pp_difficulty = a.pp_difficulty;
            }
        }
        out
    }
}
