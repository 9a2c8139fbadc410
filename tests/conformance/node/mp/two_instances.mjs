// One room, two server instances sharing the database and Redis (server/services/multiplayer/
// INSTANCES.md): the host on instance A (the room's owner), guests A and B on instance B.
// They play an item across the instances, the host kicks B, then the test stops A: everyone
// hears of the shutdown, and the room's users are told the room is gone.
import {
  MatchEvent, UserState, args, connect, load, openRoom, run, sleep, step,
} from "./lib.mjs";

const [ownerBase, otherBase] = args.bases;
const SERVER_SHUTTING_DOWN = 2; // MultiplayerCountdown union id

run(async (connections) => {
  const [hostUser, aUser, bUser] = args.users;
  const host = await connect(hostUser, { base: ownerBase });
  const a = await connect(aUser, { base: otherBase });
  const b = await connect(bUser, { base: otherBase });
  connections.push(a, b); // the host's connection ends with its instance
  await sleep(300); // B's subscription to its users' channels is applied within 50 ms
  const room = await openRoom(host, [a, b]);
  const result = { roomId: room.roomId };

  // A full round across the instances: A readies on B, the host starts on A.
  await a.invoke("ChangeState", UserState.Ready);
  await host.nextWhere("UserStateChanged", (u, s) => u === a.userId && s === UserState.Ready);
  await host.invoke("ChangeState", UserState.Ready);
  await host.invoke("StartMatch");
  await load([host, a, b]);
  for (const c of [host, a, b]) await c.invoke("ChangeState", UserState.FinishedPlay);
  for (const c of [host, a, b]) await c.next("ResultsReady");
  result.playedOnBoth = true;

  await host.invoke("KickUser", b.userId);
  result.kickSeenOnB = [];
  for (const c of [a, b]) result.kickSeenOnB.push((await c.next("UserKicked"))[0][0]);

  await step("stop-owner", { roomId: room.roomId });
  // Each user's ServerShuttingDownCountdown, or null when none came (the match's load
  // countdown came earlier: skip to the shutdown's).
  const shutdown = (event) =>
    event[0] === MatchEvent.countdownStarted && event[1][0][0] === SERVER_SHUTTING_DOWN;
  result.shutdownCountdown = await Promise.all(
    [host, a].map((c) => c.nextWhere("MatchEvent", shutdown, 8000).then((e) => e[0][1][0], () => null)),
  );
  const closed = async (c) => {
    const error = await Promise.race([c.closed, sleep(20000).then(() => "not closed")]);
    return error instanceof Error ? error.message : String(error);
  };
  result.hostClosed = await closed(host);
  result.aClosed = await closed(a);
  return result;
});
