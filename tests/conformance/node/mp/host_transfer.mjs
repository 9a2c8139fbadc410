// Host transfer and disband: the host hands over (HostChanged to all, the old host loses host
// rights), the host leaving passes the room on, the last leave ends it (the test checks the
// room's end over REST).
import { UserState, connectAll, openRoom, refusal, run, step } from "./lib.mjs";

run(async (connections) => {
  const [host, a, b] = await connectAll(connections);
  const room = await openRoom(host, [a, b]);
  const result = { roomId: room.roomId };
  result.byGuest = await refusal(a.invoke("TransferHost", b.userId), "a guest's transfer");
  await host.invoke("TransferHost", a.userId);
  result.hostChangedSeenBy = [];
  for (const c of [host, a, b]) result.hostChangedSeenBy.push((await c.next("HostChanged"))[0]);
  result.oldHostStarts = await refusal(host.invoke("StartMatch"), "the old host's start");
  await a.invoke("ChangeState", UserState.Ready);
  // The new host leaves: the host passes to a user still there.
  await a.invoke("LeaveRoom");
  result.afterLeave = [];
  for (const c of [host, b]) result.afterLeave.push((await c.next("HostChanged"))[0]);
  await step("two-left", { roomId: room.roomId });
  await host.invoke("LeaveRoom");
  await b.next("UserLeft");
  await b.invoke("LeaveRoom");
  await step("all-left", { roomId: room.roomId });
  return result;
});
