//! Mods as JSON bytes, in the shapes lazer and the osu! API use.
//!
//! - empty input: no mods;
//! - a JSON integer: the legacy (stable) bitmask, e.g. `72` for HDDT;
//! - a JSON string of acronyms: `"HDDT"`;
//! - a JSON array of lazer mods: `[{"acronym": "DT", "settings": {"speed_change": 1.3}}]`,
//!   where an entry may also be a bare acronym string.
//!
//! Mods are read for the ruleset being calculated (a DA on a taiko convert is taiko's DA).
//! An acronym that ruleset does not know, or a setting the mod does not have, is an
//! `InvalidArgument`: silently ignoring it would store pp for a play that never happened.

use rosu_mods::serde::GameModsSeed;
use rosu_mods::{GameMod, GameModIntermode, GameModsLegacy};
use rosu_pp::model::mode::GameMode;
use rosu_pp::GameMods;
use serde::de::DeserializeSeed;

use crate::ffi::CoreError;

/// Longest mods JSON we read; lazer sends a handful of mods with a few settings each.
const MAX_MODS_JSON_BYTES: usize = 64 * 1024;

fn mods_mode(mode: GameMode) -> rosu_mods::GameMode {
    match mode {
        GameMode::Osu => rosu_mods::GameMode::Osu,
        GameMode::Taiko => rosu_mods::GameMode::Taiko,
        GameMode::Catch => rosu_mods::GameMode::Catch,
        GameMode::Mania => rosu_mods::GameMode::Mania,
    }
}

pub fn parse(json: &[u8], mode: GameMode) -> Result<GameMods, CoreError> {
    if json.len() > MAX_MODS_JSON_BYTES {
        return Err(CoreError::invalid(format!("mods JSON longer than {MAX_MODS_JSON_BYTES} bytes")));
    }
    let trimmed = json.trim_ascii();
    if trimmed.is_empty() {
        return Ok(GameMods::from(GameModsLegacy::NoMod));
    }
    // A bitmask stays a legacy mod set: rosu-pp then treats it exactly as stable would.
    if trimmed.iter().all(u8::is_ascii_digit) {
        let bits: u32 = std::str::from_utf8(trimmed)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| CoreError::invalid("legacy mods bitmask does not fit in 32 bits"))?;
        let legacy = GameModsLegacy::try_from_bits(bits)
            .ok_or_else(|| CoreError::invalid(format!("legacy mods bitmask {bits} has unknown bits")))?;
        return Ok(GameMods::from(legacy));
    }
    let seed = GameModsSeed::Mode { mode: mods_mode(mode), deny_unknown_fields: true };
    let mut de = serde_json::Deserializer::from_slice(trimmed);
    let mods = seed
        .deserialize(&mut de)
        .and_then(|mods| de.end().map(|()| mods))
        .map_err(|err| CoreError::invalid(format!("invalid mods JSON: {err}")))?;
    for gamemod in mods.iter() {
        if matches!(
            gamemod,
            GameMod::UnknownOsu(_) | GameMod::UnknownTaiko(_) | GameMod::UnknownCatch(_) | GameMod::UnknownMania(_)
        ) {
            return Err(CoreError::invalid(format!("unknown mod acronym {} for ruleset {mode:?}", gamemod.acronym())));
        }
    }
    Ok(GameMods::from(mods))
}

/// The same mods in the cheapest form rosu-pp's performance step treats identically.
///
/// pp from cached attributes only asks the mods yes/no questions (HD? FL? CL?) and the
/// clock rate. Lazer mod sets answer them through a map lookup and are cloned for every
/// score; a legacy bitmask is a `u32`. So a compatible set of mods that all have a legacy
/// bit and no settings is turned into that bitmask. Difficulty keeps the lazer form: there
/// a few mods (HR in catch, for one) mean slightly different things in either form.
pub fn for_performance(mods: GameMods, mode: GameMode) -> GameMods {
    let GameMods::Lazer(lazer) = &mods else { return mods };
    // An incompatible set (NC with HT) would resolve its clock rate differently.
    if !lazer.is_valid() {
        return mods;
    }
    let mut bits = 0;
    for gamemod in lazer.iter() {
        let plain = matches!(
            gamemod.intermode(),
            GameModIntermode::NoFail
                | GameModIntermode::Easy
                | GameModIntermode::TouchDevice
                | GameModIntermode::Hidden
                | GameModIntermode::HardRock
                | GameModIntermode::SuddenDeath
                | GameModIntermode::DoubleTime
                | GameModIntermode::Relax
                | GameModIntermode::HalfTime
                | GameModIntermode::Nightcore
                | GameModIntermode::Flashlight
                | GameModIntermode::SpunOut
                | GameModIntermode::Autopilot
                | GameModIntermode::Perfect
        );
        let default = GameMod::new(gamemod.acronym().as_str(), mods_mode(mode));
        match gamemod.bits() {
            Some(bit) if plain && *gamemod == default => bits |= bit,
            _ => return mods,
        }
    }
    GameModsLegacy::try_from_bits(bits).map_or(mods, GameMods::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::ErrorCode;

    #[test]
    fn empty_and_bitmask_and_lazer_json_parse() {
        assert!(parse(b"", GameMode::Osu).is_ok());
        assert!(parse(b" 72 ", GameMode::Osu).is_ok());
        assert!(parse(b"\"HDDT\"", GameMode::Osu).is_ok());
        let dt = br#"[{"acronym":"DT","settings":{"speed_change":1.3}},{"acronym":"HD"}]"#;
        assert!(parse(dt, GameMode::Osu).is_ok());
    }

    #[test]
    fn unknown_acronym_unknown_setting_and_trailing_bytes_are_invalid() {
        for bad in [
            &br#"[{"acronym":"ZZ"}]"#[..],
            br#"[{"acronym":"DT","settings":{"no_such_setting":1}}]"#,
            br#"[{"acronym":"DT"}] x"#,
            b"99999999999",
            b"{",
        ] {
            let err = parse(bad, GameMode::Osu).err().unwrap();
            assert_eq!(err.code, ErrorCode::InvalidArgument, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn only_plain_compatible_mods_become_a_bitmask() {
        let legacy = |json: &[u8]| {
            matches!(for_performance(parse(json, GameMode::Osu).unwrap(), GameMode::Osu), GameMods::Legacy(_))
        };
        assert!(legacy(br#"[{"acronym":"HD"},{"acronym":"NC"}]"#));
        assert!(!legacy(br#"[{"acronym":"DT","settings":{"speed_change":1.3}}]"#));
        assert!(!legacy(br#"[{"acronym":"NC"},{"acronym":"HT"}]"#));
        assert!(!legacy(br#"[{"acronym":"HD"},{"acronym":"CL"}]"#));
    }

    #[test]
    fn mods_are_read_for_the_target_ruleset() {
        // Key mods exist only in mania.
        assert!(parse(br#"[{"acronym":"4K"}]"#, GameMode::Mania).is_ok());
        assert!(parse(br#"[{"acronym":"4K"}]"#, GameMode::Osu).is_err());
    }
}
