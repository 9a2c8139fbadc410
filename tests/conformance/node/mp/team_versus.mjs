// Team versus with three users: teams given on join, ChangeTeamRequest, the lock
// (SetLockStateRequest) refusing team and slot changes, then slots split by team.
import { MatchType, Request, connectAll, openRoom, refusal, run, settings } from "./lib.mjs";

const request = (c, r) => c.invoke("SendMatchRequest", r);

run(async (connections) => {
  const [host, a, b] = await connectAll(connections);
  const room = await openRoom(host, [a, b], { matchType: MatchType.TeamVersus });
  const result = { initialRoomState: room.matchState };
  result.hostTeam = room.userStates[0];
  // Every user heard of each join's team (MatchUserStateChanged), in join order.
  const teamOf = {};
  for (const c of [a, b]) {
    const [userId, state] = await host.nextWhere("MatchUserStateChanged", (u) => u === c.userId);
    teamOf[userId] = state;
  }
  result.joinTeams = teamOf;

  await request(b, Request.changeTeam(1));
  // Everyone hears of the move (skipping B's earlier assignment, which A and B may hold).
  result.bMovedSeenBy = [];
  for (const c of [host, a, b]) {
    const moved = (u, s) => u === b.userId && s[1][0] === 1;
    result.bMovedSeenBy.push((await c.nextWhere("MatchUserStateChanged", moved))[1]);
  }
  result.outOfRange = await refusal(request(b, Request.changeTeam(2)), "team 2");

  await request(host, Request.setLock(true));
  result.lockedStates = [];
  for (const c of [host, a, b]) result.lockedStates.push((await c.next("MatchRoomStateChanged"))[0]);
  result.lockedTeam = await refusal(request(a, Request.changeTeam(0)), "a team change when locked");
  result.lockedSlot = await refusal(request(a, Request.changeSlot(0)), "a slot change when locked");
  await request(host, Request.setLock(false));
  await a.next("MatchRoomStateChanged");
  result.noSlots = await refusal(request(a, Request.changeSlot(0)), "a slot without slots");

  await host.invoke("ChangeSettings", settings({ matchType: MatchType.TeamVersus, maxParticipants: 4 }));
  result.slotted = (await a.next("MatchRoomStateChanged"))[0];
  result.taken = await refusal(request(b, Request.changeSlot(0)), "a taken slot");
  result.invalidSlot = await refusal(request(b, Request.changeSlot(9)), "slot 9");
  await request(b, Request.changeSlot(1));
  result.moved = (await a.nextWhere("MatchRoomStateChanged", (s) => s[1][2][1] === b.userId))[0];
  return result;
});
