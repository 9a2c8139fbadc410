// Kick with three users: refused to a guest and for oneself; UserKicked reaches everyone,
// the kicked user is out of the room (the refusals of a user in
// no room are in refusals.mjs), and the others carry on.
import { UserState, connectAll, openRoom, refusal, run } from "./lib.mjs";

run(async (connections) => {
  const [host, a, b] = await connectAll(connections);
  const room = await openRoom(host, [a, b]);
  const result = {};
  result.byGuest = await refusal(a.invoke("KickUser", b.userId), "a guest's kick");
  result.self = await refusal(host.invoke("KickUser", host.userId), "kicking oneself");
  await host.invoke("KickUser", b.userId);
  result.kickedSeenBy = [];
  for (const c of [host, a, b]) result.kickedSeenBy.push((await c.next("UserKicked"))[0][0]);
  // The others carry on: A readies and the host sees it.
  await a.invoke("ChangeState", UserState.Ready);
  result.aReady = (await host.nextWhere("UserStateChanged", (u) => u === a.userId))[1];
  // The kicked user is out of the room: joining it again is not "already in another room".
  result.rejoinedUsers = (await b.invoke("JoinRoom", room.roomId))[3].map((u) => u[0]);
  return result;
});
