// Auto-start: with AutoStartDuration set, a user readying up starts a MatchStartCountdown
// and the match starts by itself when it ends; a manual countdown is refused meanwhile.
import { Request, RoomState, UserState, connectAll, openRoom, refusal, run } from "./lib.mjs";

run(async (connections) => {
  const [host, guest] = await connectAll(connections);
  await openRoom(host, [guest], { autoStartSeconds: 2 });
  const result = {};
  result.manual = await refusal(
    host.invoke("SendMatchRequest", Request.startCountdown(5)), "a manual countdown");
  await guest.invoke("ChangeState", UserState.Ready);
  result.countdownSeenBy = [];
  for (const c of [host, guest]) result.countdownSeenBy.push((await c.next("MatchEvent"))[0]);
  // Nobody calls StartMatch: the countdown's end does.
  for (const c of [host, guest]) await c.next("LoadRequested");
  result.roomState = (await host.nextWhere("RoomStateChanged", (s) => s !== RoomState.Open))[0];
  result.waitingForLoad = [];
  for (const c of [host, guest]) {
    const waiting = (u, s) => u === c.userId && s === UserState.WaitingForLoad;
    result.waitingForLoad.push((await guest.nextWhere("UserStateChanged", waiting))[0]);
  }
  return result;
});
