// AbortMatch: refused before a match starts and to a guest; during the load phase the host's
// abort sends everyone back to Idle with HostAbortedTheMatch and reopens the room.
import { RoomState, UserState, connectAll, openRoom, refusal, run } from "./lib.mjs";

run(async (connections) => {
  const [host, guest] = await connectAll(connections);
  await openRoom(host, [guest]);
  const result = {};
  result.notStarted = await refusal(host.invoke("AbortMatch"), "an abort before the start");
  await guest.invoke("ChangeState", UserState.Ready);
  await host.invoke("ChangeState", UserState.Ready);
  await host.invoke("StartMatch");
  for (const c of [host, guest]) await c.next("LoadRequested");
  result.guestAbort = await refusal(guest.invoke("AbortMatch"), "a guest's abort");
  await host.invoke("AbortMatch");
  result.aborted = [];
  for (const c of [host, guest]) result.aborted.push(await c.next("GameplayAborted"));
  result.roomStates = [];
  for (const c of [host, guest]) {
    result.roomStates.push((await c.nextWhere("RoomStateChanged", (s) => s === RoomState.Open))[0]);
  }
  result.idle = [];
  for (const c of [host, guest]) {
    const idle = (u, s) => u === c.userId && s === UserState.Idle;
    result.idle.push((await guest.nextWhere("UserStateChanged", idle))[0]);
  }
  return result;
});
