// Every refusal a client can reach without a referee, a restriction or a block: each
// invocation that must fail, by name, with the text the client got. Users: a host and a guest
// in a room with a password (made full after the wrong password), and an outsider in no room.
import {
  LOCALLY_AVAILABLE, MatchType, QueueMode, Request, UserState, args, beatmap, connectAll, item,
  load, newRoom, openRoom, roomView, run, settings,
} from "./lib.mjs";

// A taiko-only beatmap of another set.
const taiko = { beatmapId: args.taiko.id, checksum: args.taiko.checksum };

run(async (connections) => {
  const [host, guest, outsider] = await connectAll(connections);
  const password = "pw";
  const room = await openRoom(host, [guest], { password, maxParticipants: 3 });
  // Each call's error text, or null when it passed: the refusals by name in `texts`, the
  // calls the official server lets pass silently in `accepted`.
  const texts = {};
  const accepted = {};
  const outcome = (promise) => promise.then(() => null, (error) => String(error.message));
  const refused = async (name, promise) => {
    texts[name] = await outcome(promise);
  };
  const passes = async (name, promise) => {
    accepted[name] = await outcome(promise);
  };
  const request = (c, r) => c.invoke("SendMatchRequest", r);
  const ownSettings = (changes) => settings({ password, maxParticipants: 2, ...changes });

  // A user in no room.
  await refused("notJoinedChangeState", outsider.invoke("ChangeState", UserState.Ready));
  await refused("notJoinedStartMatch", outsider.invoke("StartMatch"));
  await passes("leaveWithoutRoom", outsider.invoke("LeaveRoom"));
  await refused("missingRoom", outsider.invoke("JoinRoom", 2 ** 40));
  await refused("wrongPassword", outsider.invoke("JoinRoomWithPassword", room.roomId, "nope"));
  await host.invoke("ChangeSettings", ownSettings({})); // two places: the room is full
  await refused("fullRoom", outsider.invoke("JoinRoomWithPassword", room.roomId, password));

  // Joining while in a room.
  await refused("createWhileInRoom", guest.invoke("CreateRoom", newRoom()));
  await refused("joinWhileInRoom", guest.invoke("JoinRoomWithPassword", room.roomId, password));

  // Host-only operations by the guest.
  await refused("guestChangeSettings", guest.invoke("ChangeSettings", ownSettings({ name: "x" })));
  await refused("guestStartMatch", guest.invoke("StartMatch"));
  await refused("guestTransferHost", guest.invoke("TransferHost", guest.userId));
  await refused("guestKick", guest.invoke("KickUser", host.userId));
  await refused("guestStartCountdown", request(guest, Request.startCountdown(10)));
  await refused("guestStopCountdown", request(guest, Request.stopCountdown(1)));
  await refused("guestAbortMatch", guest.invoke("AbortMatch"));
  await refused("guestAddInHostOnly", guest.invoke("AddPlaylistItem", item()));
  await refused("kickAbsent", host.invoke("KickUser", outsider.userId));

  // Starting.
  await refused("hostNotReady", host.invoke("StartMatch"));
  await host.invoke("ChangeState", UserState.Spectating);
  await refused("noUsersReady", host.invoke("StartMatch"));
  await host.invoke("ChangeState", UserState.Idle);

  // User states the client may not ask for.
  for (const name of ["WaitingForLoad", "Playing", "FinishedPlay", "Results"]) {
    await refused(`idleTo${name}`, guest.invoke("ChangeState", UserState[name]));
  }
  // Loaded or ReadyForGameplay outside gameplay may have crossed an abort in flight: ignored.
  await passes("idleToLoaded", guest.invoke("ChangeState", UserState.Loaded));
  await passes("idleToReadyForGameplay", guest.invoke("ChangeState", UserState.ReadyForGameplay));
  await guest.invoke("ChangeState", UserState.Ready);
  await passes("readyToReady", guest.invoke("ChangeState", UserState.Ready));
  await guest.invoke("ChangeState", UserState.Idle);

  // Settings.
  await refused("oneParticipant", host.invoke("ChangeSettings", ownSettings({ maxParticipants: 1 })));
  await refused("seventeenParticipants", host.invoke("ChangeSettings", ownSettings({ maxParticipants: 17 })));
  await refused("playlistsMatchType", host.invoke("ChangeSettings", ownSettings({ matchType: MatchType.Playlists })));

  // Match requests.
  await refused("rollOne", request(guest, Request.roll(1)));
  await refused("rollBeyond", request(guest, Request.roll(101)));
  await passes("stopMissingCountdown", request(host, Request.stopCountdown(4242)));
  await refused("takenSlot", request(guest, Request.changeSlot(0)));
  await refused("invalidSlot", request(guest, Request.changeSlot(5)));

  // The queue.
  await refused("missingBeatmap", host.invoke("AddPlaylistItem", item({ beatmapId: 2 ** 31 - 2 })));
  await refused("modifiedBeatmap", host.invoke("AddPlaylistItem", item({ checksum: "0".repeat(32) })));
  await refused("unsupportedRuleset", host.invoke("AddPlaylistItem", item({ rulesetId: 4 })));
  await refused("freestyleWithMods", host.invoke("AddPlaylistItem", item({ freestyle: true, allowedMods: [["HD", []]] })));
  await refused("rulesetNotOfBeatmap", host.invoke("AddPlaylistItem", item({ ...taiko, rulesetId: 2 })));
  await refused("removeOnlyItem", host.invoke("RemovePlaylistItem", room.currentItem));
  await refused("removeMissingItem", host.invoke("RemovePlaylistItem", 2 ** 40));
  await refused("editMissingItem", host.invoke("EditPlaylistItem", item({ id: 2 ** 40 })));
  await refused("guestEditsHostItem", guest.invoke("EditPlaylistItem", item({ id: room.currentItem })));
  await host.invoke("AddPlaylistItem", item());
  const [second] = await guest.next("PlaylistItemAdded");
  await refused("guestRemovesHostItem", guest.invoke("RemovePlaylistItem", second[0]));

  // Style and mods the current item does not allow.
  await refused("styleRulesetUnsupported", guest.invoke("ChangeUserStyle", null, 9));
  await refused("freeStyleNotAllowed", guest.invoke("ChangeUserStyle", beatmap.id, 0));
  await refused("modNotAllowed", guest.invoke("ChangeUserMods", [["HD", []]]));

  // Gameplay-only calls outside gameplay.
  await refused("abortGameplayOutside", guest.invoke("AbortGameplay"));
  await refused("skipOutside", guest.invoke("VoteToSkipIntro"));

  // During a match: the load countdown while loading, the rest while playing (no timer runs).
  for (const c of [host, guest]) await c.invoke("ChangeBeatmapAvailability", LOCALLY_AVAILABLE);
  await guest.invoke("ChangeState", UserState.Ready);
  await host.invoke("ChangeState", UserState.Ready);
  await host.invoke("StartMatch");
  const [[, [[, [loadCountdownId]]]]] = await host.next("MatchEvent");
  await refused("stopLoadCountdown", request(host, Request.stopCountdown(loadCountdownId)));
  await load([host, guest]);
  await refused("settingsInGame", host.invoke("ChangeSettings", ownSettings({ name: "y" })));
  // Idle during gameplay may have crossed the match start in flight: ignored.
  await passes("idleInGame", guest.invoke("ChangeState", UserState.Idle));
  await refused("countdownInGame", request(host, Request.startCountdown(10)));
  await refused("editCurrentInGame", host.invoke("EditPlaylistItem", item({ id: room.currentItem })));
  await refused("removeCurrentInGame", host.invoke("RemovePlaylistItem", room.currentItem));
  await host.invoke("AbortMatch");

  // The outsider alone in a room of its own (all players may queue) whose only item is a
  // freestyle taiko map: styles the item does not allow, then the item played.
  const solo = roomView(await outsider.invoke("CreateRoom", newRoom({
    queueMode: QueueMode.AllPlayers, items: [item({ ...taiko, rulesetId: 1, freestyle: true })],
  })));
  await refused("styleBeatmapMissing", outsider.invoke("ChangeUserStyle", 2 ** 31 - 2, null));
  await refused("styleBeatmapOfOtherSet", outsider.invoke("ChangeUserStyle", beatmap.id, null));
  await refused("styleRulesetNotOfBeatmap", outsider.invoke("ChangeUserStyle", null, 2));
  await outsider.invoke("ChangeBeatmapAvailability", LOCALLY_AVAILABLE);
  await outsider.invoke("ChangeState", UserState.Ready);
  await outsider.invoke("StartMatch");
  await load([outsider]);
  await outsider.invoke("ChangeState", UserState.FinishedPlay);
  await outsider.next("ResultsReady");
  await outsider.invoke("ChangeState", UserState.Idle);
  await refused("readyAllPlayed", outsider.invoke("ChangeState", UserState.Ready));
  const played = item({ ...taiko, id: solo.currentItem, rulesetId: 1, freestyle: true });
  await refused("editPlayedItem", outsider.invoke("EditPlaylistItem", played));
  await refused("removePlayedItem", outsider.invoke("RemovePlaylistItem", solo.currentItem));
  return { texts, accepted };
});
