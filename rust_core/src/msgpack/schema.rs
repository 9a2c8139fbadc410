//! The one schema of lazer's hub types: key index, field name and field kind per type.
//!
//! Why one table in Rust, read by both directions: decode and encode cannot drift apart
//! (a key index is written once), and the quirks (positional arrays with nil gaps, union
//! envelopes, ticks, DateTimeOffset pairs, APIMod's settings) are handled by one
//! transcoder per kind rather than per type. Python never sees lazer's wire shape: the
//! transcoder rewrites it as plain msgpack (objects as maps keyed by the C# field name,
//! unions as maps with a `"type"` member name), which msgspec reads into dicts or Structs
//! and writes back. So Python models need only the field names, not the indices.
//!
//! Sources: lazer-protocol.md §7 (key indices, union ids), checked against ppy/osu's
//! `[Key(n)]` attributes for the spectator types. Enums are `I32`: range checks belong to
//! the hub (reliability.md S-RT-6), not to the codec.

/// Range of an integer field, from its .NET type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntRange {
    pub min: i128,
    pub max: i128,
}

pub const I16: IntRange = IntRange { min: i16::MIN as i128, max: i16::MAX as i128 };
pub const I32: IntRange = IntRange { min: i32::MIN as i128, max: i32::MAX as i128 };
pub const I64: IntRange = IntRange { min: i64::MIN as i128, max: i64::MAX as i128 };
pub const U8: IntRange = IntRange { min: 0, max: u8::MAX as i128 };
pub const U16: IntRange = IntRange { min: 0, max: u16::MAX as i128 };
pub const U32: IntRange = IntRange { min: 0, max: u32::MAX as i128 };
pub const U64: IntRange = IntRange { min: 0, max: u64::MAX as i128 };

#[derive(Debug)]
pub enum Kind {
    Int(IntRange),
    /// .NET `float`: float32 on the wire.
    F32,
    /// .NET `double`: float64 on the wire.
    F64,
    Bool,
    Str,
    /// `TimeSpan`: int64 ticks (100 ns), passed through as an int.
    TimeSpan,
    /// `DateTimeOffset`: `[timestamp ext, int16 offset minutes]` <-> a UTC timestamp.
    DateTimeOffset,
    Nullable(&'static Kind),
    Array(&'static Kind),
    /// `Dictionary<int-like enum, V>`: a map with integer keys.
    IntMap(&'static Kind),
    /// APIMod settings: array header N followed by 2N items <-> a string-keyed map.
    ModSettings,
    Object(&'static ObjectSchema),
    Union(&'static UnionSchema),
    /// Any well-formed msgpack value, copied unchanged (depth-checked).
    Any,
}

#[derive(Debug)]
pub struct Field {
    pub key: usize,
    pub name: &'static str,
    pub kind: Kind,
}

/// A `[MessagePackObject]` class: fields sorted by key; base-class keys included.
#[derive(Debug)]
pub struct ObjectSchema {
    pub name: &'static str,
    pub fields: &'static [Field],
}

impl ObjectSchema {
    /// Array length MessagePack-CSharp writes: max key + 1 (0 for a keyless class).
    pub fn wire_len(&self) -> usize {
        self.fields.last().map_or(0, |f| f.key + 1)
    }
}

#[derive(Debug)]
pub struct Member {
    pub id: i128,
    pub name: &'static str,
    /// None: a member we do not model (matchmaking, ranked play); its payload travels as
    /// an opaque `"raw"` value.
    pub schema: Option<&'static ObjectSchema>,
}

/// A `[Union(id, Type)]` base: `[id, payload]` on the wire, nil for null.
#[derive(Debug)]
pub struct UnionSchema {
    pub name: &'static str,
    pub members: &'static [Member],
}

/// Key of the member name in a union's plain map.
pub const UNION_TAG: &str = "type";
/// Key of an unmodelled member's payload in its plain map.
pub const UNION_RAW: &str = "raw";

const fn f(key: usize, name: &'static str, kind: Kind) -> Field {
    Field { key, name, kind }
}

const fn member(id: i128, name: &'static str, schema: &'static ObjectSchema) -> Member {
    Member { id, name, schema: Some(schema) }
}

const fn opaque(id: i128, name: &'static str) -> Member {
    Member { id, name, schema: None }
}

use Kind::*;

// ---- Spectator hub (§7.1; ppy/osu osu.Game/Online/Spectator, Replays/Legacy) ----

pub static API_MOD: ObjectSchema =
    ObjectSchema { name: "APIMod", fields: &[f(0, "Acronym", Str), f(1, "Settings", ModSettings)] };

pub static SPECTATOR_STATE: ObjectSchema = ObjectSchema {
    name: "SpectatorState",
    fields: &[
        f(0, "BeatmapID", Nullable(&Int(I32))),
        f(1, "RulesetID", Nullable(&Int(I32))),
        f(2, "Mods", Array(&Object(&API_MOD))),
        f(3, "State", Int(I32)),
        f(4, "MaximumStatistics", IntMap(&Int(I32))),
    ],
};

pub static SCORE_PROCESSOR_STATISTICS: ObjectSchema = ObjectSchema {
    name: "ScoreProcessorStatistics",
    fields: &[
        f(0, "BaseScore", F64),
        f(1, "MaximumBaseScore", F64),
        f(2, "AccuracyJudgementCount", Int(I32)),
        f(3, "ComboPortion", F64),
        f(4, "BonusPortion", F64),
    ],
};

pub static FRAME_HEADER: ObjectSchema = ObjectSchema {
    name: "FrameHeader",
    fields: &[
        f(0, "TotalScore", Int(I64)),
        f(1, "Accuracy", F64),
        f(2, "Combo", Int(I32)),
        f(3, "MaxCombo", Int(I32)),
        f(4, "Statistics", IntMap(&Int(I32))),
        f(5, "ScoreProcessorStatistics", Object(&SCORE_PROCESSOR_STATISTICS)),
        f(6, "ReceivedTime", DateTimeOffset),
        f(7, "Mods", Array(&Object(&API_MOD))),
        f(8, "TotalScoreWithoutMods", Nullable(&Int(I64))),
        f(9, "Pauses", Nullable(&Array(&Int(I32)))),
    ],
};

pub static LEGACY_REPLAY_FRAME: ObjectSchema = ObjectSchema {
    name: "LegacyReplayFrame",
    fields: &[
        f(0, "Time", F64),
        f(1, "MouseX", Nullable(&F32)),
        f(2, "MouseY", Nullable(&F32)),
        f(3, "ButtonState", Int(I32)),
    ],
};

pub static FRAME_DATA_BUNDLE: ObjectSchema = ObjectSchema {
    name: "FrameDataBundle",
    fields: &[f(0, "Header", Object(&FRAME_HEADER)), f(1, "Frames", Array(&Object(&LEGACY_REPLAY_FRAME)))],
};

pub static SPECTATOR_USER: ObjectSchema =
    ObjectSchema { name: "SpectatorUser", fields: &[f(0, "OnlineID", Int(I32)), f(1, "Username", Str)] };

// ---- Metadata hub (§7.3) ----

static EMPTY: &[Field] = &[];

pub static IN_GAME: ObjectSchema = ObjectSchema {
    name: "InGame",
    fields: &[
        f(0, "BeatmapID", Int(I32)),
        f(1, "BeatmapDisplayTitle", Str),
        f(2, "RulesetID", Int(I32)),
        f(3, "RulesetPlayingVerb", Str),
    ],
};

pub static WATCHING_REPLAY: ObjectSchema = ObjectSchema {
    name: "WatchingReplay",
    fields: &[
        f(0, "ScoreID", Int(I64)),
        f(1, "PlayerName", Str),
        f(2, "BeatmapID", Int(I32)),
        f(3, "BeatmapDisplayTitle", Nullable(&Str)),
    ],
};

pub static IN_LOBBY: ObjectSchema =
    ObjectSchema { name: "InLobby", fields: &[f(0, "RoomID", Int(I64)), f(1, "RoomName", Str)] };

pub static EDITING_BEATMAP: ObjectSchema =
    ObjectSchema { name: "EditingBeatmap", fields: &[f(0, "BeatmapID", Int(I32)), f(1, "BeatmapDisplayTitle", Str)] };

pub static NO_FIELDS: ObjectSchema = ObjectSchema { name: "Empty", fields: EMPTY };

pub static USER_ACTIVITY: UnionSchema = UnionSchema {
    name: "UserActivity",
    members: &[
        member(11, "ChoosingBeatmap", &NO_FIELDS),
        member(12, "InSoloGame", &IN_GAME),
        member(13, "WatchingReplay", &WATCHING_REPLAY),
        member(14, "SpectatingUser", &WATCHING_REPLAY),
        member(21, "SearchingForLobby", &NO_FIELDS),
        member(22, "InLobby", &IN_LOBBY),
        member(23, "InMultiplayerGame", &IN_GAME),
        member(24, "SpectatingMultiplayerGame", &IN_GAME),
        member(31, "InPlaylistGame", &IN_GAME),
        member(41, "EditingBeatmap", &EDITING_BEATMAP),
        member(42, "ModdingBeatmap", &EDITING_BEATMAP),
        member(43, "TestingBeatmap", &EDITING_BEATMAP),
        member(51, "InDailyChallengeLobby", &NO_FIELDS),
        member(52, "PlayingDailyChallenge", &IN_GAME),
    ],
};

pub static USER_PRESENCE: ObjectSchema = ObjectSchema {
    name: "UserPresence",
    fields: &[f(0, "Activity", Union(&USER_ACTIVITY)), f(1, "Status", Nullable(&Int(I32)))],
};

pub static BEATMAP_UPDATES: ObjectSchema = ObjectSchema {
    name: "BeatmapUpdates",
    fields: &[f(0, "BeatmapSetIDs", Array(&Int(I32))), f(1, "LastProcessedQueueID", Int(I32))],
};

pub static DAILY_CHALLENGE_INFO: ObjectSchema =
    ObjectSchema { name: "DailyChallengeInfo", fields: &[f(0, "RoomID", Int(I64))] };

pub static MULTIPLAYER_PLAYLIST_ITEM_STATS: ObjectSchema = ObjectSchema {
    name: "MultiplayerPlaylistItemStats",
    fields: &[
        f(0, "PlaylistItemID", Int(I64)),
        f(1, "TotalScoreDistribution", Array(&Int(I64))),
        f(2, "CumulativeScore", Int(I64)),
        f(3, "LastProcessedScoreID", Int(U64)),
    ],
};

pub static MULTIPLAYER_ROOM_SCORE_SET_EVENT: ObjectSchema = ObjectSchema {
    name: "MultiplayerRoomScoreSetEvent",
    fields: &[
        f(0, "RoomID", Int(I64)),
        f(1, "PlaylistItemID", Int(I64)),
        f(2, "ScoreID", Int(I64)),
        f(3, "UserID", Int(I32)),
        f(4, "TotalScore", Int(I64)),
        f(5, "NewRank", Nullable(&Int(I32))),
    ],
};

// ---- Multiplayer hub (§7.2) ----

pub static BEATMAP_AVAILABILITY: ObjectSchema = ObjectSchema {
    name: "BeatmapAvailability",
    fields: &[f(0, "State", Int(I32)), f(1, "DownloadProgress", Nullable(&F32))],
};

pub static MULTIPLAYER_TEAM: ObjectSchema =
    ObjectSchema { name: "MultiplayerTeam", fields: &[f(0, "ID", Int(I32)), f(1, "Name", Str)] };

pub static TEAM_VERSUS_ROOM_STATE: ObjectSchema = ObjectSchema {
    name: "TeamVersusRoomState",
    fields: &[
        f(0, "Teams", Array(&Object(&MULTIPLAYER_TEAM))),
        f(1, "Locked", Bool),
        f(2, "Slots", Nullable(&Array(&Nullable(&Int(I32))))),
    ],
};

// Keys 1 and 2 only: on the wire `[nil, Locked, Slots]` (§6.3's own example).
pub static STANDARD_MATCH_ROOM_STATE: ObjectSchema = ObjectSchema {
    name: "StandardMatchRoomState",
    fields: &[f(1, "Locked", Bool), f(2, "Slots", Nullable(&Array(&Nullable(&Int(I32)))))],
};

pub static MATCH_ROOM_STATE: UnionSchema = UnionSchema {
    name: "MatchRoomState",
    members: &[
        member(0, "TeamVersusRoomState", &TEAM_VERSUS_ROOM_STATE),
        opaque(1, "MatchmakingRoomState"),
        opaque(2, "RankedPlayRoomState"),
        member(3, "StandardMatchRoomState", &STANDARD_MATCH_ROOM_STATE),
    ],
};

pub static TEAM_VERSUS_USER_STATE: ObjectSchema =
    ObjectSchema { name: "TeamVersusUserState", fields: &[f(0, "TeamID", Int(I32))] };

pub static MATCH_USER_STATE: UnionSchema =
    UnionSchema { name: "MatchUserState", members: &[member(0, "TeamVersusUserState", &TEAM_VERSUS_USER_STATE)] };

pub static COUNTDOWN: ObjectSchema =
    ObjectSchema { name: "CountdownFields", fields: &[f(0, "ID", Int(I32)), f(1, "TimeRemaining", TimeSpan)] };

pub static MULTIPLAYER_COUNTDOWN: UnionSchema = UnionSchema {
    name: "MultiplayerCountdown",
    members: &[
        member(0, "MatchStartCountdown", &COUNTDOWN),
        member(1, "ForceGameplayStartCountdown", &COUNTDOWN),
        member(2, "ServerShuttingDownCountdown", &COUNTDOWN),
        opaque(3, "MatchmakingStageCountdown"),
        opaque(4, "RankedPlayStageCountdown"),
    ],
};

pub static COUNTDOWN_STARTED_EVENT: ObjectSchema =
    ObjectSchema { name: "CountdownStartedEvent", fields: &[f(0, "Countdown", Union(&MULTIPLAYER_COUNTDOWN))] };

pub static COUNTDOWN_ID: ObjectSchema = ObjectSchema { name: "CountdownID", fields: &[f(0, "ID", Int(I32))] };

pub static ROLL_EVENT: ObjectSchema = ObjectSchema {
    name: "RollEvent",
    fields: &[f(0, "UserID", Int(I32)), f(1, "Max", Int(U32)), f(2, "Result", Int(U32))],
};

pub static MATCH_SERVER_EVENT: UnionSchema = UnionSchema {
    name: "MatchServerEvent",
    members: &[
        member(0, "CountdownStartedEvent", &COUNTDOWN_STARTED_EVENT),
        member(1, "CountdownStoppedEvent", &COUNTDOWN_ID),
        opaque(2, "MatchmakingAvatarActionEvent"),
        opaque(3, "RankedPlayCardHandReplayEvent"),
        member(4, "RollEvent", &ROLL_EVENT),
    ],
};

pub static CHANGE_TEAM_REQUEST: ObjectSchema =
    ObjectSchema { name: "ChangeTeamRequest", fields: &[f(0, "TeamID", Int(I32))] };
pub static START_MATCH_COUNTDOWN_REQUEST: ObjectSchema =
    ObjectSchema { name: "StartMatchCountdownRequest", fields: &[f(0, "Duration", TimeSpan)] };
pub static SET_LOCK_STATE_REQUEST: ObjectSchema =
    ObjectSchema { name: "SetLockStateRequest", fields: &[f(0, "Locked", Bool)] };
pub static ROLL_REQUEST: ObjectSchema =
    ObjectSchema { name: "RollRequest", fields: &[f(0, "Max", Nullable(&Int(U32)))] };
pub static CHANGE_SLOT_REQUEST: ObjectSchema =
    ObjectSchema { name: "ChangeSlotRequest", fields: &[f(0, "SlotID", Int(U8))] };

pub static MATCH_USER_REQUEST: UnionSchema = UnionSchema {
    name: "MatchUserRequest",
    members: &[
        member(0, "ChangeTeamRequest", &CHANGE_TEAM_REQUEST),
        member(1, "StartMatchCountdownRequest", &START_MATCH_COUNTDOWN_REQUEST),
        member(2, "StopCountdownRequest", &COUNTDOWN_ID),
        opaque(3, "MatchmakingAvatarActionRequest"),
        opaque(4, "RankedPlayCardHandReplayRequest"),
        member(5, "SetLockStateRequest", &SET_LOCK_STATE_REQUEST),
        member(6, "RollRequest", &ROLL_REQUEST),
        member(7, "ChangeSlotRequest", &CHANGE_SLOT_REQUEST),
    ],
};

pub static MULTIPLAYER_ROOM_SETTINGS: ObjectSchema = ObjectSchema {
    name: "MultiplayerRoomSettings",
    fields: &[
        f(0, "Name", Str),
        f(1, "PlaylistItemId", Int(I64)),
        f(2, "Password", Str),
        f(3, "MatchType", Int(I32)),
        f(4, "QueueMode", Int(I32)),
        f(5, "AutoStartDuration", TimeSpan),
        f(6, "AutoSkip", Bool),
        f(7, "MaxParticipants", Nullable(&Int(U8))),
    ],
};

pub static MULTIPLAYER_ROOM_USER: ObjectSchema = ObjectSchema {
    name: "MultiplayerRoomUser",
    fields: &[
        f(0, "UserID", Int(I32)),
        f(1, "State", Int(I32)),
        f(2, "BeatmapAvailability", Object(&BEATMAP_AVAILABILITY)),
        f(3, "Mods", Array(&Object(&API_MOD))),
        f(4, "MatchState", Union(&MATCH_USER_STATE)),
        f(5, "RulesetId", Nullable(&Int(I32))),
        f(6, "BeatmapId", Nullable(&Int(I32))),
        f(7, "VotedToSkipIntro", Bool),
        f(8, "Role", Int(I32)),
    ],
};

pub static MULTIPLAYER_PLAYLIST_ITEM: ObjectSchema = ObjectSchema {
    name: "MultiplayerPlaylistItem",
    fields: &[
        f(0, "ID", Int(I64)),
        f(1, "OwnerID", Int(I32)),
        f(2, "BeatmapID", Int(I32)),
        f(3, "BeatmapChecksum", Str),
        f(4, "RulesetID", Int(I32)),
        f(5, "RequiredMods", Array(&Object(&API_MOD))),
        f(6, "AllowedMods", Array(&Object(&API_MOD))),
        f(7, "Expired", Bool),
        f(8, "PlaylistOrder", Int(U16)),
        f(9, "PlayedAt", Nullable(&DateTimeOffset)),
        f(10, "StarRating", F64),
        f(11, "Freestyle", Bool),
    ],
};

pub static MULTIPLAYER_ROOM: ObjectSchema = ObjectSchema {
    name: "MultiplayerRoom",
    fields: &[
        f(0, "RoomID", Int(I64)),
        f(1, "State", Int(I32)),
        f(2, "Settings", Object(&MULTIPLAYER_ROOM_SETTINGS)),
        f(3, "Users", Array(&Object(&MULTIPLAYER_ROOM_USER))),
        f(4, "Host", Nullable(&Object(&MULTIPLAYER_ROOM_USER))),
        f(5, "MatchState", Union(&MATCH_ROOM_STATE)),
        f(6, "Playlist", Array(&Object(&MULTIPLAYER_PLAYLIST_ITEM))),
        f(7, "ActiveCountdowns", Array(&Union(&MULTIPLAYER_COUNTDOWN))),
        f(8, "ChannelID", Int(I32)),
    ],
};

/// Every named type the API accepts. Argument lists and element types are built from these
/// with the suffixes `?` (nullable) and `[]` (array), e.g. `APIMod[]`, `long?`.
pub static NAMED: &[(&str, Kind)] = &[
    // .NET scalars under their C# names.
    ("int", Int(I32)),
    ("long", Int(I64)),
    ("short", Int(I16)),
    ("byte", Int(U8)),
    ("ushort", Int(U16)),
    ("uint", Int(U32)),
    ("ulong", Int(U64)),
    ("float", F32),
    ("double", F64),
    ("bool", Bool),
    ("string", Str),
    ("TimeSpan", TimeSpan),
    ("DateTimeOffset", DateTimeOffset),
    ("any", Any),
    // Enums travel as their integer values (§4.10).
    ("SpectatedUserState", Int(I32)),
    ("UserStatus", Int(I32)),
    ("MultiplayerRoomState", Int(I32)),
    ("MultiplayerUserState", Int(I32)),
    ("GameplayAbortReason", Int(I32)),
    ("MatchType", Int(I32)),
    ("QueueMode", Int(I32)),
    ("DownloadState", Int(I32)),
    ("HitResultCounts", IntMap(&Int(I32))),
    // Objects.
    ("APIMod", Object(&API_MOD)),
    ("SpectatorState", Object(&SPECTATOR_STATE)),
    ("FrameDataBundle", Object(&FRAME_DATA_BUNDLE)),
    ("FrameHeader", Object(&FRAME_HEADER)),
    ("ScoreProcessorStatistics", Object(&SCORE_PROCESSOR_STATISTICS)),
    ("LegacyReplayFrame", Object(&LEGACY_REPLAY_FRAME)),
    ("SpectatorUser", Object(&SPECTATOR_USER)),
    ("UserPresence", Object(&USER_PRESENCE)),
    ("BeatmapUpdates", Object(&BEATMAP_UPDATES)),
    ("DailyChallengeInfo", Object(&DAILY_CHALLENGE_INFO)),
    ("MultiplayerPlaylistItemStats", Object(&MULTIPLAYER_PLAYLIST_ITEM_STATS)),
    ("MultiplayerRoomScoreSetEvent", Object(&MULTIPLAYER_ROOM_SCORE_SET_EVENT)),
    ("MultiplayerRoom", Object(&MULTIPLAYER_ROOM)),
    ("MultiplayerRoomSettings", Object(&MULTIPLAYER_ROOM_SETTINGS)),
    ("MultiplayerRoomUser", Object(&MULTIPLAYER_ROOM_USER)),
    ("MultiplayerPlaylistItem", Object(&MULTIPLAYER_PLAYLIST_ITEM)),
    ("BeatmapAvailability", Object(&BEATMAP_AVAILABILITY)),
    ("MultiplayerTeam", Object(&MULTIPLAYER_TEAM)),
    // Unions.
    ("UserActivity", Union(&USER_ACTIVITY)),
    ("MatchRoomState", Union(&MATCH_ROOM_STATE)),
    ("MatchUserState", Union(&MATCH_USER_STATE)),
    ("MatchServerEvent", Union(&MATCH_SERVER_EVENT)),
    ("MatchUserRequest", Union(&MATCH_USER_REQUEST)),
    ("MultiplayerCountdown", Union(&MULTIPLAYER_COUNTDOWN)),
];

pub fn lookup(name: &str) -> Option<&'static Kind> {
    NAMED.iter().find(|(n, _)| *n == name).map(|(_, k)| k)
}

/// The schema as plain msgpack, for Python's tests and model checks:
/// `{"named": {name: kind}, "objects": {name: [[key, field, kind]...]},
///   "unions": {name: [[id, member, object name | nil]...]}}`, where a kind is
/// `["int", min, max]`, `["nullable", kind]`, `["object", name]`, `["f32"]`, ...
pub fn describe() -> Vec<u8> {
    use super::writer;
    use std::collections::BTreeMap;

    fn walk(
        kind: &Kind,
        objects: &mut BTreeMap<&'static str, &'static ObjectSchema>,
        unions: &mut BTreeMap<&'static str, &'static UnionSchema>,
    ) {
        match kind {
            Nullable(k) | Array(k) | IntMap(k) => walk(k, objects, unions),
            Object(o) if objects.insert(o.name, o).is_none() => {
                o.fields.iter().for_each(|f| walk(&f.kind, objects, unions));
            }
            Union(u) if unions.insert(u.name, u).is_none() => {
                for o in u.members.iter().filter_map(|m| m.schema) {
                    walk(&Object(o), objects, unions);
                }
            }
            _ => {}
        }
    }

    fn kind_out(out: &mut Vec<u8>, kind: &Kind) {
        let (tag, inner): (&str, Option<&Kind>) = match kind {
            Int(r) => {
                writer::array_len(out, 3);
                writer::str(out, "int");
                writer::int(out, r.min);
                writer::int(out, r.max);
                return;
            }
            Object(o) => {
                writer::array_len(out, 2);
                writer::str(out, "object");
                writer::str(out, o.name);
                return;
            }
            Union(u) => {
                writer::array_len(out, 2);
                writer::str(out, "union");
                writer::str(out, u.name);
                return;
            }
            F32 => ("f32", None),
            F64 => ("f64", None),
            Bool => ("bool", None),
            Str => ("str", None),
            TimeSpan => ("timespan", None),
            DateTimeOffset => ("datetimeoffset", None),
            ModSettings => ("modsettings", None),
            Any => ("any", None),
            Nullable(k) => ("nullable", Some(k)),
            Array(k) => ("array", Some(k)),
            IntMap(k) => ("intmap", Some(k)),
        };
        writer::array_len(out, 1 + usize::from(inner.is_some()));
        writer::str(out, tag);
        if let Some(k) = inner {
            kind_out(out, k);
        }
    }

    let mut objects = BTreeMap::new();
    let mut unions = BTreeMap::new();
    NAMED.iter().for_each(|(_, k)| walk(k, &mut objects, &mut unions));

    let mut out = Vec::new();
    writer::map_len(&mut out, 3);
    writer::str(&mut out, "named");
    writer::map_len(&mut out, NAMED.len());
    for (name, kind) in NAMED {
        writer::str(&mut out, name);
        kind_out(&mut out, kind);
    }
    writer::str(&mut out, "objects");
    writer::map_len(&mut out, objects.len());
    for (name, o) in &objects {
        writer::str(&mut out, name);
        writer::array_len(&mut out, o.fields.len());
        for field in o.fields {
            writer::array_len(&mut out, 3);
            writer::int(&mut out, field.key as i128);
            writer::str(&mut out, field.name);
            kind_out(&mut out, &field.kind);
        }
    }
    writer::str(&mut out, "unions");
    writer::map_len(&mut out, unions.len());
    for (name, u) in &unions {
        writer::str(&mut out, name);
        writer::array_len(&mut out, u.members.len());
        for m in u.members {
            writer::array_len(&mut out, 3);
            writer::int(&mut out, m.id);
            writer::str(&mut out, m.name);
            match m.schema {
                Some(o) => writer::str(&mut out, o.name),
                None => writer::nil(&mut out),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_sorted(o: &ObjectSchema) {
        for pair in o.fields.windows(2) {
            assert!(pair[0].key < pair[1].key, "{}: keys out of order", o.name);
        }
    }

    #[test]
    fn every_object_has_strictly_increasing_keys() {
        for (_, kind) in NAMED {
            match kind {
                Object(o) => check_sorted(o),
                Union(u) => u.members.iter().filter_map(|m| m.schema).for_each(check_sorted),
                _ => {}
            }
        }
    }

    #[test]
    fn union_ids_are_unique() {
        for (_, kind) in NAMED {
            if let Union(u) = kind {
                let mut ids: Vec<_> = u.members.iter().map(|m| m.id).collect();
                ids.sort();
                ids.dedup();
                assert_eq!(ids.len(), u.members.len(), "{}", u.name);
            }
        }
    }
}
