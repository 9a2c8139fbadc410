// The load timeout: the host loads, the guest never does; when the ForceGameplayStartCountdown
// ends the host plays and the guest is sent back to Idle with LoadTookTooLong.
import { UserState, connectAll, openRoom, run } from "./lib.mjs";

run(async (connections) => {
  const [host, guest] = await connectAll(connections);
  await openRoom(host, [guest]);
  const result = {};
  await guest.invoke("ChangeState", UserState.Ready);
  await host.invoke("ChangeState", UserState.Ready);
  await host.invoke("StartMatch");
  for (const c of [host, guest]) await c.next("LoadRequested");
  result.countdown = (await guest.next("MatchEvent"))[0];
  await host.invoke("ChangeState", UserState.Loaded);
  await host.invoke("ChangeState", UserState.ReadyForGameplay);
  await host.next("GameplayStarted");
  result.guestAborted = await guest.next("GameplayAborted");
  result.guestGotGameplayStarted = guest.seen.GameplayStarted.length;
  const state = (c, s) => host.nextWhere("UserStateChanged", (u, t) => u === c.userId && t === s);
  result.hostPlaying = await state(host, UserState.Playing);
  result.guestIdle = await state(guest, UserState.Idle);
  // The host finishes alone: results follow, the guest (Idle) is not waited for.
  await host.invoke("ChangeState", UserState.FinishedPlay);
  await host.next("ResultsReady");
  return result;
});
