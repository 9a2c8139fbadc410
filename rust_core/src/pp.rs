//! Difficulty and performance through rosu-pp, behind the C ABI (`rc_pp_*`).
//!
//! A beatmap is parsed once into an opaque handle. Difficulty attributes come back as one
//! flat `#[repr(C)]` struct covering all four rulesets (tagged by `mode`) so the server can
//! cache them and compute pp later, one score or a batch, without the beatmap.
//!
//! Work is bounded: files over `MAX_BEATMAP_BYTES` are refused before parsing; maps that
//! rosu-pp's suspicion screen flags (S-SC-9), or whose sliders would expand into more than
//! `MAX_NESTED_OBJECTS` ticks and droplets, parse but are refused any difficulty or pp work.
//! Long batches are split over a few threads.

mod abi;
mod mods;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use rosu_pp::any::DifficultyAttributes;
use rosu_pp::model::control_point::{DifficultyPoint, TimingPoint};
use rosu_pp::model::hit_object::HitObjectKind;
use rosu_pp::model::mode::GameMode;
use rosu_pp::{Beatmap, Difficulty, GameMods, Performance};

use crate::ffi::{input_slice, landing_pad, write_buf, CoreError, ErrorCode, RcBuf, RcStatus};

pub use abi::{RcPpBeatmapInfo, RcPpDifficultyAttributes, RcPpPerformanceAttributes, RcPpScore};

/// The pp algorithm this core implements: the rosu-pp release and the osu!lazer update it
/// ports. Stored beside every pp value so a later update can be recalculated and audited.
pub const ALGORITHM_VERSION: &str = "rosu-pp 4.0.1 (osu!lazer 2025-10)";

/// Largest .osu file we parse. The 53-minute marathon in the test data is 243 KB; ranked
/// maps stay far below this, so anything bigger is abuse or not a beatmap.
pub const MAX_BEATMAP_BYTES: usize = 16 * 1024 * 1024;

/// Handles alive right now: a leak shows up here (tests and a server metric read it).
static LIVE_BEATMAPS: AtomicUsize = AtomicUsize::new(0);

/// Refuse maps whose sliders would make more nested objects (ticks, repeats, droplets)
/// than this. rosu-pp's screen counts objects, not what a slider expands into: one slider
/// of 100,000 px with 999 repeats and a fine tick grid passes it and then takes half a
/// minute and gigabytes. The 53-minute marathon in the test data comes to about 25,000.
pub const MAX_NESTED_OBJECTS: f64 = 2_000_000.0;

/// A parsed beatmap with its suspicion verdict, behind the opaque `rc_pp_beatmap *`.
pub struct PpBeatmap {
    map: Beatmap,
    /// Why difficulty and pp are refused for this map, if they are.
    suspicion: Option<String>,
    /// Max combo of the unmodded map in its own mode; costs a difficulty pass, so it is
    /// computed the first time `rc_pp_beatmap_get_info` asks.
    max_combo: OnceLock<u32>,
}

impl PpBeatmap {
    fn new(map: Beatmap) -> Self {
        let suspicion = screen(&map);
        Self { map, suspicion, max_combo: OnceLock::new() }
    }

    fn into_raw(self) -> *mut PpBeatmap {
        LIVE_BEATMAPS.fetch_add(1, Ordering::Relaxed);
        Box::into_raw(Box::new(self))
    }

    fn ensure_not_suspicious(&self) -> Result<(), CoreError> {
        match &self.suspicion {
            None => Ok(()),
            Some(reason) => Err(suspicious_error(reason)),
        }
    }
}

fn suspicious_error(reason: &str) -> CoreError {
    CoreError::new(
        ErrorCode::SuspiciousBeatmap,
        format!("beatmap refused as suspicious ({reason}); no pp is computed for it"),
    )
}

/// rosu-pp's suspicion screen, then our bound on what sliders expand into.
fn screen(map: &Beatmap) -> Option<String> {
    if let Err(reason) = map.check_suspicion() {
        return Some(format!("rosu-pp: {reason:?}"));
    }
    let nested = estimate_nested_objects(map);
    (nested > MAX_NESTED_OBJECTS)
        .then(|| format!("sliders would expand into ~{nested:.0} nested objects; the limit is {MAX_NESTED_OBJECTS}"))
}

/// An upper estimate of the nested objects the sliders expand into, in every ruleset:
/// ticks per span from the tick distance (as lazer's slider event generator spaces them,
/// which also caps a path at 100,000 px), plus head/repeat/tail, plus catch's tiny droplets
/// (at most one per 50 ms of slider). Timing lookups mirror rosu-pp's (last point at or
/// before the slider; lazer's clamps on slider velocity).
fn estimate_nested_objects(map: &Beatmap) -> f64 {
    const BASE_SCORING_DISTANCE: f64 = 100.0;
    const MAX_PATH_LENGTH: f64 = 100_000.0;
    let mut total = 0.0;
    for h in &map.hit_objects {
        let HitObjectKind::Slider(slider) = &h.kind else { continue };
        let beat_len = point_at(&map.timing_points, h.start_time, |p| p.time)
            .map_or(TimingPoint::DEFAULT_BEAT_LEN, |p| p.beat_len);
        let sv = point_at(&map.difficulty_points, h.start_time, |p| p.time)
            .map_or(DifficultyPoint::DEFAULT_SLIDER_VELOCITY, |p| p.slider_velocity)
            .clamp(0.1, 10.0);
        let length = match slider.expected_dist {
            Some(dist) => dist,
            // Without a declared length, the control polygon (doubled for arcs) bounds it.
            None => 2.0 * polyline_length(slider),
        };
        let length = if length.is_finite() { length.clamp(0.0, MAX_PATH_LENGTH) } else { 0.0 };
        let scoring_distance = BASE_SCORING_DISTANCE * map.slider_multiplier * sv;
        let tick_multiplier = if map.version < 8 { sv.recip() } else { 1.0 };
        let tick_distance = scoring_distance / map.slider_tick_rate * tick_multiplier;
        let ticks_per_span = finite_or_zero(length / tick_distance);
        let spans = slider.span_count() as f64;
        let duration_ms = finite_or_zero(spans * length * beat_len / scoring_distance);
        total += spans * (ticks_per_span + 2.0) + duration_ms / 50.0;
    }
    total
}

fn finite_or_zero(value: f64) -> f64 {
    if value.is_finite() && value > 0.0 {
        value
    } else {
        0.0
    }
}

fn point_at<T>(points: &[T], time: f64, time_of: impl Fn(&T) -> f64) -> Option<&T> {
    let after = points.partition_point(|p| time_of(p) <= time);
    points.get(after.saturating_sub(1))
}

fn polyline_length(slider: &rosu_pp::model::hit_object::Slider) -> f64 {
    slider.control_points.windows(2).map(|pair| f64::from((pair[1].pos - pair[0].pos).length())).sum()
}

/// Parse .osu bytes. lazer refuses a file without the format header, and so do we: without
/// this check rosu-map would accept any bytes as an empty beatmap.
pub fn parse_beatmap(bytes: &[u8]) -> Result<PpBeatmap, CoreError> {
    if bytes.len() > MAX_BEATMAP_BYTES {
        return Err(CoreError::new(
            ErrorCode::TooLarge,
            format!("beatmap is {} bytes; the limit is {MAX_BEATMAP_BYTES}", bytes.len()),
        ));
    }
    if !has_format_header(bytes) {
        return Err(CoreError::new(
            ErrorCode::BeatmapParse,
            "not an .osu file: the first line must be `osu file format v<N>`",
        ));
    }
    let map = Beatmap::from_bytes(bytes)
        .map_err(|err| CoreError::new(ErrorCode::BeatmapParse, format!("cannot parse beatmap: {err}")))?;
    Ok(PpBeatmap::new(map))
}

fn has_format_header(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = bytes.split(|&b| b == b'\n').map(|line| line.trim_ascii()).find(|line| !line.is_empty());
    first_line.is_some_and(|line| line.starts_with(b"osu file format v"))
}

/// The mode to calculate for: negative means the beatmap's own mode.
fn resolve_mode(map: &Beatmap, mode: i32) -> Result<GameMode, CoreError> {
    match mode {
        m if m < 0 => Ok(map.mode),
        0 => Ok(GameMode::Osu),
        1 => Ok(GameMode::Taiko),
        2 => Ok(GameMode::Catch),
        3 => Ok(GameMode::Mania),
        other => Err(CoreError::invalid(format!("unknown ruleset {other}; expected 0..=3"))),
    }
}

/// Difficulty attributes for `mode` and `mods`, converting the map first when needed.
pub fn difficulty(beatmap: &PpBeatmap, mode: GameMode, mods: &GameMods) -> Result<DifficultyAttributes, CoreError> {
    beatmap.ensure_not_suspicious()?;
    let difficulty = Difficulty::new().mods(mods.clone());
    if mode == beatmap.map.mode {
        return Ok(difficulty.calculate(&beatmap.map));
    }
    let converted = convert(&beatmap.map, mode, mods)?;
    // A convert can cross thresholds the source did not (taiko has a lower object limit).
    converted.check_suspicion().map_err(|reason| suspicious_error(&format!("rosu-pp: {reason:?}")))?;
    Ok(difficulty.calculate(&converted))
}

fn convert(map: &Beatmap, mode: GameMode, mods: &GameMods) -> Result<Beatmap, CoreError> {
    map.convert_ref(mode, mods)
        .map(std::borrow::Cow::into_owned)
        .map_err(|err| CoreError::new(ErrorCode::Conversion, format!("cannot convert beatmap: {err}")))
}

/// pp for one score from difficulty attributes; the mods must be those of the attributes.
pub fn performance(
    attrs: DifficultyAttributes,
    mods: &GameMods,
    score: &RcPpScore,
) -> Result<rosu_pp::any::PerformanceAttributes, CoreError> {
    score.validate()?;
    let mode = abi::attrs_mode(&attrs);
    // Mods and the lazer flag travel in a `Difficulty`: `Performance::lazer` on the any-mode
    // builder drops the flag for taiko and catch, yet taiko's calculator reads it (classic
    // scoring changes its hit windows and HD bonus).
    let settings = Difficulty::new().mods(mods.clone()).lazer(score.is_lazer());
    let mut perf = Performance::new(attrs).difficulty(settings).state(score.to_state(mode));
    if let Some(total) = score.legacy_total_score() {
        perf = perf.legacy_total_score(total);
    }
    Ok(perf.calculate())
}

/// Batches at least this long are split over threads; below it, spawning costs more than
/// it saves (one score takes about half a microsecond).
const MIN_SCORES_PER_THREAD: usize = 256;
/// A batch uses at most this many threads, so one recalculation cannot take a whole host.
const MAX_BATCH_THREADS: usize = 4;

/// pp for every score into `out` (same length), split over a few threads when long.
pub fn performance_batch(
    attrs: &DifficultyAttributes,
    mods: &GameMods,
    scores: &[RcPpScore],
    out: &mut [f64],
) -> Result<(), CoreError> {
    let serial = |scores: &[RcPpScore], out: &mut [f64]| -> Result<(), CoreError> {
        for (score, pp) in scores.iter().zip(out.iter_mut()) {
            *pp = performance(attrs.clone(), mods, score)?.pp();
        }
        Ok(())
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let threads = cores.min(MAX_BATCH_THREADS).min(scores.len() / MIN_SCORES_PER_THREAD);
    if threads <= 1 {
        return serial(scores, out);
    }
    let chunk = scores.len().div_ceil(threads);
    let (head_scores, tail_scores) = scores.split_at(chunk);
    let (head_out, tail_out) = out.split_at_mut(chunk);
    std::thread::scope(|scope| {
        let workers: Vec<_> = tail_scores
            .chunks(chunk)
            .zip(tail_out.chunks_mut(chunk))
            .map(|(scores, out)| scope.spawn(move || serial(scores, out)))
            .collect();
        // The calling thread takes the first chunk instead of waiting idle.
        let mut result = serial(head_scores, head_out);
        for worker in workers {
            // A worker's panic continues in this thread, where the landing pad catches it.
            let chunk_result = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            result = result.and(chunk_result);
        }
        result
    })
}

fn info(beatmap: &PpBeatmap) -> RcPpBeatmapInfo {
    let map = &beatmap.map;
    let count = |pred: fn(&HitObjectKind) -> bool| map.hit_objects.iter().filter(|h| pred(&h.kind)).count() as u32;
    let max_combo = if beatmap.suspicion.is_some() {
        0
    } else {
        *beatmap.max_combo.get_or_init(|| Difficulty::new().calculate(map).max_combo())
    };
    // Sliders count at their start time: their end needs the full path, which only the
    // difficulty pass computes. Spinners and hold notes carry their duration.
    let first = map.hit_objects.first().map_or(0.0, |h| h.start_time);
    let last = map
        .hit_objects
        .iter()
        .map(|h| match &h.kind {
            HitObjectKind::Spinner(s) => h.start_time + s.duration,
            HitObjectKind::Hold(hold) => h.start_time + hold.duration,
            _ => h.start_time,
        })
        .fold(first, f64::max);
    let length_ms = last - first;
    RcPpBeatmapInfo {
        mode: map.mode as u32,
        is_convert: u32::from(map.is_convert),
        is_suspicious: u32::from(beatmap.suspicion.is_some()),
        format_version: map.version.max(0) as u32,
        n_objects: map.hit_objects.len() as u32,
        n_circles: count(|k| matches!(k, HitObjectKind::Circle)),
        n_sliders: count(|k| matches!(k, HitObjectKind::Slider(_))),
        n_spinners: count(|k| matches!(k, HitObjectKind::Spinner(_))),
        n_holds: count(|k| matches!(k, HitObjectKind::Hold(_))),
        max_combo,
        ar: f64::from(map.ar),
        od: f64::from(map.od),
        cs: f64::from(map.cs),
        hp: f64::from(map.hp),
        bpm: map.bpm(),
        length_ms,
        drain_ms: (length_ms - map.total_break_time()).max(0.0),
    }
}

unsafe fn beatmap_ref<'a>(handle: *const PpBeatmap) -> Result<&'a PpBeatmap, CoreError> {
    handle.as_ref().ok_or_else(|| CoreError::invalid("null beatmap handle"))
}

unsafe fn out_ref<'a, T>(out: *mut T) -> Result<&'a mut T, CoreError> {
    out.as_mut().ok_or_else(|| CoreError::invalid("null output pointer"))
}

/// # Safety
/// `out` must point to a writable `rc_buf`.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_algorithm_version(out: *mut RcBuf) -> RcStatus {
    landing_pad(|| write_buf(out, ALGORITHM_VERSION.as_bytes().to_vec()))
}

/// # Safety
/// `out` must point to a writable `rc_buf`.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_build_profile(out: *mut RcBuf) -> RcStatus {
    let profile: &str = if cfg!(debug_assertions) { "debug" } else { "release" };
    landing_pad(|| write_buf(out, profile.as_bytes().to_vec()))
}

/// # Safety
/// `out` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_live_beatmaps(out: *mut usize) -> RcStatus {
    landing_pad(|| {
        *out_ref(out)? = LIVE_BEATMAPS.load(Ordering::Relaxed);
        Ok(())
    })
}

/// # Safety
/// `data` must point to `len` readable bytes; `out` to a writable handle pointer.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_beatmap_parse(data: *const u8, len: usize, out: *mut *mut PpBeatmap) -> RcStatus {
    landing_pad(|| {
        let out = out_ref(out)?;
        let beatmap = parse_beatmap(input_slice(data, len)?)?;
        *out = beatmap.into_raw();
        Ok(())
    })
}

/// # Safety
/// `handle` must be null or a handle from this library that was not freed before.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_beatmap_free(handle: *mut PpBeatmap) {
    if handle.is_null() {
        return;
    }
    // Dropping never panics for these types; the landing pad is for the status convention.
    landing_pad(|| {
        drop(Box::from_raw(handle));
        LIVE_BEATMAPS.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    });
}

/// # Safety
/// `handle` must be a live handle; `out` must point to a writable `rc_pp_beatmap_info`.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_beatmap_get_info(handle: *const PpBeatmap, out: *mut RcPpBeatmapInfo) -> RcStatus {
    landing_pad(|| {
        let beatmap = beatmap_ref(handle)?;
        *out_ref(out)? = info(beatmap);
        Ok(())
    })
}

/// # Safety
/// `handle` must be a live handle; `mods` must point to `mods_len` bytes; `out` to a
/// writable handle pointer.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_beatmap_convert(
    handle: *const PpBeatmap,
    mode: i32,
    mods: *const u8,
    mods_len: usize,
    out: *mut *mut PpBeatmap,
) -> RcStatus {
    landing_pad(|| {
        let beatmap = beatmap_ref(handle)?;
        let out = out_ref(out)?;
        let mode = resolve_mode(&beatmap.map, mode)?;
        let mods = mods::parse(input_slice(mods, mods_len)?, mode)?;
        let converted = convert(&beatmap.map, mode, &mods)?;
        *out = PpBeatmap::new(converted).into_raw();
        Ok(())
    })
}

/// # Safety
/// `handle` must be a live handle; `mods` must point to `mods_len` bytes; `out` must point
/// to a writable `rc_pp_difficulty_attributes`.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_difficulty(
    handle: *const PpBeatmap,
    mode: i32,
    mods: *const u8,
    mods_len: usize,
    out: *mut RcPpDifficultyAttributes,
) -> RcStatus {
    landing_pad(|| {
        let beatmap = beatmap_ref(handle)?;
        let out = out_ref(out)?;
        let mode = resolve_mode(&beatmap.map, mode)?;
        let mods = mods::parse(input_slice(mods, mods_len)?, mode)?;
        *out = RcPpDifficultyAttributes::from_rosu(&difficulty(beatmap, mode, &mods)?);
        Ok(())
    })
}

/// # Safety
/// `handle` must be a live handle; `mods` must point to `mods_len` bytes; `score` must
/// point to a readable `rc_pp_score`; `out` to a writable `rc_pp_performance_attributes`.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_performance(
    handle: *const PpBeatmap,
    mode: i32,
    mods: *const u8,
    mods_len: usize,
    score: *const RcPpScore,
    out: *mut RcPpPerformanceAttributes,
) -> RcStatus {
    landing_pad(|| {
        let beatmap = beatmap_ref(handle)?;
        let score = score.as_ref().ok_or_else(|| CoreError::invalid("null score"))?;
        let out = out_ref(out)?;
        let mode = resolve_mode(&beatmap.map, mode)?;
        let mods = mods::parse(input_slice(mods, mods_len)?, mode)?;
        let attrs = difficulty(beatmap, mode, &mods)?;
        let mods = mods::for_performance(mods, mode);
        *out = RcPpPerformanceAttributes::from_rosu(&performance(attrs, &mods, score)?);
        Ok(())
    })
}

/// # Safety
/// `attrs` must point to a readable `rc_pp_difficulty_attributes`; `mods` to `mods_len`
/// bytes; `score` to a readable `rc_pp_score`; `out` to a writable
/// `rc_pp_performance_attributes`.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_performance_from_attributes(
    attrs: *const RcPpDifficultyAttributes,
    mods: *const u8,
    mods_len: usize,
    score: *const RcPpScore,
    out: *mut RcPpPerformanceAttributes,
) -> RcStatus {
    landing_pad(|| {
        let attrs = attrs.as_ref().ok_or_else(|| CoreError::invalid("null attributes"))?;
        let score = score.as_ref().ok_or_else(|| CoreError::invalid("null score"))?;
        let out = out_ref(out)?;
        let attrs = attrs.to_rosu()?;
        let mode = abi::attrs_mode(&attrs);
        let mods = mods::for_performance(mods::parse(input_slice(mods, mods_len)?, mode)?, mode);
        *out = RcPpPerformanceAttributes::from_rosu(&performance(attrs, &mods, score)?);
        Ok(())
    })
}

/// # Safety
/// `attrs` must point to a readable `rc_pp_difficulty_attributes`; `mods` to `mods_len`
/// bytes; `scores` to `n` readable `rc_pp_score`s; `out_pp` to `n` writable doubles.
#[no_mangle]
pub unsafe extern "C" fn rc_pp_performance_batch(
    attrs: *const RcPpDifficultyAttributes,
    mods: *const u8,
    mods_len: usize,
    scores: *const RcPpScore,
    n: usize,
    out_pp: *mut f64,
) -> RcStatus {
    landing_pad(|| {
        let attrs = attrs.as_ref().ok_or_else(|| CoreError::invalid("null attributes"))?;
        if n > 0 && (scores.is_null() || out_pp.is_null()) {
            return Err(CoreError::invalid("null scores or output array with n > 0"));
        }
        if n == 0 {
            return Ok(());
        }
        let scores = std::slice::from_raw_parts(scores, n);
        let out_pp = std::slice::from_raw_parts_mut(out_pp, n);
        let attrs = attrs.to_rosu()?;
        let mode = abi::attrs_mode(&attrs);
        let mods = mods::for_performance(mods::parse(input_slice(mods, mods_len)?, mode)?, mode);
        // Validate everything first so a bad score leaves no half-written output.
        for (i, score) in scores.iter().enumerate() {
            score.validate().map_err(|err| CoreError::invalid(format!("score {i}: {}", err.message)))?;
        }
        performance_batch(&attrs, &mods, scores, out_pp)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY_MAP: &str = "osu file format v14\n\n[General]\nMode: 0\n\n[Difficulty]\nHPDrainRate:5\nCircleSize:4\nOverallDifficulty:8\nApproachRate:9\nSliderMultiplier:1.4\nSliderTickRate:1\n\n[TimingPoints]\n0,500,4,2,0,50,1,0\n\n[HitObjects]\n256,192,1000,1,0,0:0:0:0:\n100,100,1500,1,0,0:0:0:0:\n300,200,2000,2,0,L|400:200,1,100\n";

    #[test]
    fn refuses_bytes_without_the_format_header() {
        let err = parse_beatmap(b"\x00\x01garbage").err().unwrap();
        assert_eq!(err.code, ErrorCode::BeatmapParse);
    }

    #[test]
    fn accepts_a_bom_before_the_header() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(TINY_MAP.as_bytes());
        assert_eq!(parse_beatmap(&bytes).unwrap().map.hit_objects.len(), 3);
    }

    #[test]
    fn a_slider_that_expands_into_millions_of_ticks_is_suspicious() {
        let fine_ticks = TINY_MAP
            .replace("SliderMultiplier:1.4", "SliderMultiplier:0.4")
            .replace("SliderTickRate:1", "SliderTickRate:8")
            .replace("0,500,4,2,0,50,1,0", "0,60000,4,2,0,50,1,0\n0,-1000,4,2,0,50,0,0")
            .replace("L|400:200,1,100", "L|400:200,999,100000");
        let beatmap = parse_beatmap(fine_ticks.as_bytes()).unwrap();
        assert!(beatmap.map.check_suspicion().is_ok(), "rosu-pp's own screen lets it through");
        let err = difficulty(&beatmap, GameMode::Osu, &GameMods::from(0u32)).err().unwrap();
        assert_eq!(err.code, ErrorCode::SuspiciousBeatmap);
        assert!(err.message.contains("nested objects"), "{}", err.message);
    }

    #[test]
    fn refuses_oversize_input_before_parsing() {
        let bytes = vec![b' '; MAX_BEATMAP_BYTES + 1];
        assert_eq!(parse_beatmap(&bytes).err().unwrap().code, ErrorCode::TooLarge);
    }

    #[test]
    fn attributes_round_trip_through_the_c_struct() {
        let beatmap = parse_beatmap(TINY_MAP.as_bytes()).unwrap();
        for mode in [GameMode::Osu, GameMode::Taiko, GameMode::Catch, GameMode::Mania] {
            let attrs = difficulty(&beatmap, mode, &GameMods::from(0u32)).unwrap();
            let back = RcPpDifficultyAttributes::from_rosu(&attrs).to_rosu().unwrap();
            assert_eq!(format!("{attrs:?}"), format!("{back:?}"));
        }
    }

    #[test]
    fn converting_a_converted_map_is_a_conversion_error() {
        let beatmap = parse_beatmap(TINY_MAP.as_bytes()).unwrap();
        let mods = GameMods::from(0u32);
        let taiko = PpBeatmap::new(convert(&beatmap.map, GameMode::Taiko, &mods).unwrap());
        let err = convert(&taiko.map, GameMode::Catch, &mods).err().unwrap();
        assert_eq!(err.code, ErrorCode::Conversion);
    }
}
