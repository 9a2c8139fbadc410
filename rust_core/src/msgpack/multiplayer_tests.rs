//! The multiplayer hub's types against bytes written by hand from the C# declarations
//! (ppy/osu `osu.Game/Online/Multiplayer/**`, `Online/Rooms/{MultiplayerPlaylistItem,
//! BeatmapAvailability}.cs`): `[Key(n)]` order, `[Union(id, …)]` ids, .NET widths.
//! Each vector is checked both ways: the wire decodes to the expected plain map, and that
//! map encodes back to exactly the same bytes.

use super::schema::{lookup, Kind, NAMED};
use super::transcode::{decode, encode};
use super::writer;
use crate::ffi::ErrorCode;

/// A plain value (what Python sees), written with the codec's own writer.
enum P {
    Nil,
    B(bool),
    I(i128),
    F(f64),
    S(&'static str),
    T(i64, u32),
    A(Vec<P>),
    M(Vec<(&'static str, P)>),
}

use P::*;

fn emit(p: &P, out: &mut Vec<u8>) {
    match p {
        Nil => writer::nil(out),
        B(v) => writer::boolean(out, *v),
        I(v) => writer::int(out, *v),
        F(v) => writer::f64(out, *v),
        S(v) => writer::str(out, v),
        T(secs, nanos) => writer::timestamp(out, *secs, *nanos),
        A(items) => {
            writer::array_len(out, items.len());
            items.iter().for_each(|i| emit(i, out));
        }
        M(entries) => {
            writer::map_len(out, entries.len());
            for (k, v) in entries {
                writer::str(out, k);
                emit(v, out);
            }
        }
    }
}

fn plain(p: P) -> Vec<u8> {
    let mut out = Vec::new();
    emit(&p, &mut out);
    out
}

fn both_ways(type_name: &str, wire: &[u8], expected: P) {
    let expected = plain(expected);
    assert_eq!(decode(type_name, wire).unwrap(), expected, "{type_name}: decode");
    assert_eq!(encode(type_name, &expected).unwrap(), wire, "{type_name}: encode");
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ---- Hand-built wire pieces ----

/// MultiplayerRoomUser: [UserID 7, State Ready, BeatmapAvailability [Downloading, 0.5f],
/// Mods [["HD", {}]], MatchState TeamVersusUserState(1), RulesetId nil, BeatmapId 75,
/// VotedToSkipIntro false, Role Player].
fn user_wire() -> Vec<u8> {
    cat(&[
        &[0x99, 0x07, 0x01],
        &[0x92, 0x02, 0xca, 0x3f, 0x00, 0x00, 0x00],
        &[0x91, 0x92, 0xa2, b'H', b'D', 0x90],
        &[0x92, 0x00, 0x91, 0x01],
        &[0xc0, 0x4b, 0xc2, 0x00],
    ])
}

fn user_plain() -> P {
    M(vec![
        ("UserID", I(7)),
        ("State", I(1)),
        ("BeatmapAvailability", M(vec![("State", I(2)), ("DownloadProgress", F(0.5))])),
        ("Mods", A(vec![M(vec![("Acronym", S("HD")), ("Settings", M(vec![]))])])),
        ("MatchState", M(vec![("type", S("TeamVersusUserState")), ("TeamID", I(1))])),
        ("RulesetId", Nil),
        ("BeatmapId", I(75)),
        ("VotedToSkipIntro", B(false)),
        ("Role", I(0)),
    ])
}

/// MultiplayerPlaylistItem with a DT speed change (the settings quirk), an ushort order
/// above 255, PlayedAt 2024-01-02T03:04:05Z as [timestamp32, offset 0] and a double rating.
fn item_wire() -> Vec<u8> {
    cat(&[
        &[0x9c, 0x0c, 0x03, 0x4b, 0xa3, b'a', b'b', b'c', 0x00],
        &[0x91, 0x92, 0xa2, b'D', b'T', 0x91, 0xac],
        b"speed_change",
        &[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
        &[0x90, 0xc3, 0xcd, 0x01, 0x2c],
        &[0x92, 0xd6, 0xff, 0x65, 0x93, 0x7d, 0x25, 0x00],
        &[0xcb, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0xc2],
    ])
}

fn item_plain() -> P {
    M(vec![
        ("ID", I(12)),
        ("OwnerID", I(3)),
        ("BeatmapID", I(75)),
        ("BeatmapChecksum", S("abc")),
        ("RulesetID", I(0)),
        ("RequiredMods", A(vec![M(vec![("Acronym", S("DT")), ("Settings", M(vec![("speed_change", F(1.5))]))])])),
        ("AllowedMods", A(vec![])),
        ("Expired", B(true)),
        ("PlaylistOrder", I(300)),
        ("PlayedAt", T(1_704_164_645, 0)),
        ("StarRating", F(5.25)),
        ("Freestyle", B(false)),
    ])
}

/// MultiplayerRoomSettings: name, item 12, password "pw", TeamVersus, round robin, 30 s
/// auto start (300,000,000 ticks as uint32), AutoSkip, MaxParticipants 16.
fn settings_wire() -> Vec<u8> {
    cat(&[&[0x98, 0xa1, b'r', 0x0c, 0xa2, b'p', b'w', 0x02, 0x02, 0xce, 0x11, 0xe1, 0xa3, 0x00, 0xc3, 0x10]])
}

fn settings_plain() -> P {
    M(vec![
        ("Name", S("r")),
        ("PlaylistItemId", I(12)),
        ("Password", S("pw")),
        ("MatchType", I(2)),
        ("QueueMode", I(2)),
        ("AutoStartDuration", I(300_000_000)),
        ("AutoSkip", B(true)),
        ("MaxParticipants", I(16)),
    ])
}

#[test]
fn beatmap_availability_float_progress() {
    both_ways(
        "BeatmapAvailability",
        &[0x92, 0x02, 0xca, 0x3f, 0x00, 0x00, 0x00],
        M(vec![("State", I(2)), ("DownloadProgress", F(0.5))]),
    );
    both_ways("BeatmapAvailability", &[0x92, 0x04, 0xc0], M(vec![("State", I(4)), ("DownloadProgress", Nil)]));
}

#[test]
fn room_user_item_and_settings() {
    both_ways("MultiplayerRoomUser", &user_wire(), user_plain());
    both_ways("MultiplayerPlaylistItem", &item_wire(), item_plain());
    both_ways("MultiplayerRoomSettings", &settings_wire(), settings_plain());
}

#[test]
fn whole_room_with_every_nested_union() {
    // [RoomID 1000, Open, settings, [user], host = user, StandardMatchRoomState with two
    // slots, [item], [MatchStartCountdown(ID 1, 30 s)], ChannelID 55]
    let wire = cat(&[
        &[0x99, 0xcd, 0x03, 0xe8, 0x00],
        &settings_wire(),
        &[0x91],
        &user_wire(),
        &user_wire(),
        &[0x92, 0x03, 0x93, 0xc0, 0xc2, 0x92, 0x07, 0xc0],
        &[0x91],
        &item_wire(),
        &[0x91, 0x92, 0x00, 0x92, 0x01, 0xce, 0x11, 0xe1, 0xa3, 0x00],
        &[0x37],
    ]);
    both_ways(
        "MultiplayerRoom",
        &wire,
        M(vec![
            ("RoomID", I(1000)),
            ("State", I(0)),
            ("Settings", settings_plain()),
            ("Users", A(vec![user_plain()])),
            ("Host", user_plain()),
            (
                "MatchState",
                M(vec![("type", S("StandardMatchRoomState")), ("Locked", B(false)), ("Slots", A(vec![I(7), Nil]))]),
            ),
            ("Playlist", A(vec![item_plain()])),
            (
                "ActiveCountdowns",
                A(vec![M(vec![("type", S("MatchStartCountdown")), ("ID", I(1)), ("TimeRemaining", I(300_000_000))])]),
            ),
            ("ChannelID", I(55)),
        ]),
    );
}

#[test]
fn team_versus_room_state_inherits_standard_keys() {
    both_ways(
        "MatchRoomState",
        &cat(&[&[0x92, 0x00, 0x93, 0x91, 0x92, 0x00, 0xa3], b"Red", &[0xc3, 0xc0]]),
        M(vec![
            ("type", S("TeamVersusRoomState")),
            ("Teams", A(vec![M(vec![("ID", I(0)), ("Name", S("Red"))])])),
            ("Locked", B(true)),
            ("Slots", Nil),
        ]),
    );
}

#[test]
fn every_match_user_request() {
    let tag = |name| ("type", S(name));
    both_ways("MatchUserRequest", &[0x92, 0x00, 0x91, 0x01], M(vec![tag("ChangeTeamRequest"), ("TeamID", I(1))]));
    both_ways(
        "MatchUserRequest",
        &[0x92, 0x01, 0x91, 0xce, 0x11, 0xe1, 0xa3, 0x00],
        M(vec![tag("StartMatchCountdownRequest"), ("Duration", I(300_000_000))]),
    );
    both_ways("MatchUserRequest", &[0x92, 0x02, 0x91, 0x04], M(vec![tag("StopCountdownRequest"), ("ID", I(4))]));
    both_ways("MatchUserRequest", &[0x92, 0x05, 0x91, 0xc3], M(vec![tag("SetLockStateRequest"), ("Locked", B(true))]));
    both_ways("MatchUserRequest", &[0x92, 0x06, 0x91, 0xc0], M(vec![tag("RollRequest"), ("Max", Nil)]));
    both_ways("MatchUserRequest", &[0x92, 0x06, 0x91, 0x64], M(vec![tag("RollRequest"), ("Max", I(100))]));
    both_ways("MatchUserRequest", &[0x92, 0x07, 0x91, 0x0f], M(vec![tag("ChangeSlotRequest"), ("SlotID", I(15))]));
    // Unmodelled members (matchmaking, ranked play) keep their payload as it came.
    both_ways(
        "MatchUserRequest",
        &[0x92, 0x03, 0x91, 0x01],
        M(vec![tag("MatchmakingAvatarActionRequest"), ("raw", A(vec![I(1)]))]),
    );
    both_ways(
        "MatchUserRequest",
        &[0x92, 0x04, 0x90],
        M(vec![tag("RankedPlayCardHandReplayRequest"), ("raw", A(vec![]))]),
    );
}

#[test]
fn every_match_server_event_and_countdown() {
    let tag = |name| ("type", S(name));
    both_ways("MatchServerEvent", &[0x92, 0x01, 0x91, 0x04], M(vec![tag("CountdownStoppedEvent"), ("ID", I(4))]));
    both_ways(
        "MatchServerEvent",
        &[0x92, 0x04, 0x93, 0x07, 0x64, 0x2a],
        M(vec![tag("RollEvent"), ("UserID", I(7)), ("Max", I(100)), ("Result", I(42))]),
    );
    for (id, name) in
        [(0u8, "MatchStartCountdown"), (1, "ForceGameplayStartCountdown"), (2, "ServerShuttingDownCountdown")]
    {
        let countdown = || M(vec![tag(name), ("ID", I(2)), ("TimeRemaining", I(300_000_000))]);
        let bare = [0x92, id, 0x92, 0x02, 0xce, 0x11, 0xe1, 0xa3, 0x00];
        both_ways("MultiplayerCountdown", &bare, countdown());
        // The countdown inside CountdownStartedEvent keeps its own union envelope.
        both_ways(
            "MatchServerEvent",
            &cat(&[&[0x92, 0x00, 0x91], &bare]),
            M(vec![tag("CountdownStartedEvent"), ("Countdown", countdown())]),
        );
    }
    both_ways("MatchUserState", &[0x92, 0x00, 0x91, 0x01], M(vec![tag("TeamVersusUserState"), ("TeamID", I(1))]));
}

#[test]
fn union_ids_are_the_csharp_ones() {
    let expected: &[(&str, &[(i128, &str)])] = &[
        (
            "MatchRoomState",
            &[
                (0, "TeamVersusRoomState"),
                (1, "MatchmakingRoomState"),
                (2, "RankedPlayRoomState"),
                (3, "StandardMatchRoomState"),
            ],
        ),
        ("MatchUserState", &[(0, "TeamVersusUserState")]),
        (
            "MatchServerEvent",
            &[
                (0, "CountdownStartedEvent"),
                (1, "CountdownStoppedEvent"),
                (2, "MatchmakingAvatarActionEvent"),
                (3, "RankedPlayCardHandReplayEvent"),
                (4, "RollEvent"),
            ],
        ),
        (
            "MatchUserRequest",
            &[
                (0, "ChangeTeamRequest"),
                (1, "StartMatchCountdownRequest"),
                (2, "StopCountdownRequest"),
                (3, "MatchmakingAvatarActionRequest"),
                (4, "RankedPlayCardHandReplayRequest"),
                (5, "SetLockStateRequest"),
                (6, "RollRequest"),
                (7, "ChangeSlotRequest"),
            ],
        ),
        (
            "MultiplayerCountdown",
            &[
                (0, "MatchStartCountdown"),
                (1, "ForceGameplayStartCountdown"),
                (2, "ServerShuttingDownCountdown"),
                (3, "MatchmakingStageCountdown"),
                (4, "RankedPlayStageCountdown"),
            ],
        ),
    ];
    for (name, members) in expected {
        let Some(Kind::Union(u)) = lookup(name) else { panic!("{name} is not a union") };
        let got: Vec<_> = u.members.iter().map(|m| (m.id, m.name)).collect();
        assert_eq!(&got, members, "{name}");
    }
}

#[test]
fn wire_lengths_are_max_key_plus_one() {
    for (name, len) in [
        ("MultiplayerRoom", 9),
        ("MultiplayerRoomSettings", 8),
        ("MultiplayerRoomUser", 9),
        ("MultiplayerPlaylistItem", 12),
        ("BeatmapAvailability", 2),
        ("MultiplayerTeam", 2),
    ] {
        let Some(Kind::Object(o)) = lookup(name) else { panic!("{name} is not an object") };
        assert_eq!(o.wire_len(), len, "{name}");
    }
    assert!(NAMED.iter().any(|(n, _)| *n == "MultiplayerRoom"));
}

#[test]
fn an_older_clients_shorter_user_decodes_with_the_rest_left_out() {
    // Before Role (key 8) and VotedToSkipIntro (key 7) existed: 7 elements.
    let wire = [0x97, 0x07, 0x00, 0x92, 0x04, 0xc0, 0x90, 0xc0, 0xc0, 0xc0];
    let got = decode("MultiplayerRoomUser", &wire).unwrap();
    let expected = plain(M(vec![
        ("UserID", I(7)),
        ("State", I(0)),
        ("BeatmapAvailability", M(vec![("State", I(4)), ("DownloadProgress", Nil)])),
        ("Mods", A(vec![])),
        ("MatchState", Nil),
        ("RulesetId", Nil),
        ("BeatmapId", Nil),
    ]));
    assert_eq!(got, expected);
}

#[test]
fn malformed_multiplayer_values_are_refused() {
    let refused = |ty: &str, wire: &[u8]| {
        let err = decode(ty, wire).unwrap_err();
        assert_eq!(err.code, ErrorCode::MsgpackDecode, "{ty} {wire:02x?}");
    };
    // A countdown without its union envelope (what a naive encoder would write).
    refused("MultiplayerCountdown", &[0x92, 0x01, 0xce, 0x11, 0xe1, 0xa3, 0x00]);
    // ChangeSlotRequest's SlotID is a .NET byte.
    refused("MatchUserRequest", &[0x92, 0x07, 0x91, 0xcd, 0x01, 0x00]);
    // RollRequest's Max is a .NET uint.
    refused("MatchUserRequest", &[0x92, 0x06, 0x91, 0xff]);
    // PlaylistOrder is a ushort.
    refused("MultiplayerPlaylistItem", &[0x99, 0, 0, 0, 0xa0, 0, 0x90, 0x90, 0xc2, 0xce, 0, 1, 0, 0]);
    // An unknown union id, and a three-element envelope.
    refused("MatchServerEvent", &[0x92, 0x09, 0x90]);
    refused("MatchUserRequest", &[0x93, 0x00, 0x91, 0x01, 0xc0]);
    // AutoSkip must be a real bool.
    refused("MultiplayerRoomSettings", &[0x97, 0xa0, 0, 0xa0, 1, 0, 0, 0x01]);
}
