// Two users play one room end to end (the host negotiates, the guest connects as lazer does):
// create, wrong and right password, ready, start, load, gameplay, a score submitted over REST
// by the test, FinishedPlay, ResultsReady, the next item, leaving.
import {
  LOCALLY_AVAILABLE, UserState, args, connect, itemView, load, newRoom, refusal, roomView, run,
  step,
} from "./lib.mjs";

run(async (connections) => {
  const [hostUser, guestUser] = args.users;
  const host = await connect(hostUser, { negotiate: true });
  const guest = await connect(guestUser);
  connections.push(host, guest);
  const result = {};

  const created = roomView(await host.invoke("CreateRoom", newRoom({ password: "secret" })));
  const itemId = created.currentItem;
  result.created = { roomId: created.roomId, itemId, host: created.host, users: created.users };
  await step("created", { roomId: created.roomId, itemId });

  result.wrongPassword = await refusal(
    guest.invoke("JoinRoomWithPassword", created.roomId, "wrong"), "a wrong password");
  const joined = roomView(await guest.invoke("JoinRoomWithPassword", created.roomId, "secret"));
  result.joinedUsers = joined.users;
  result.hostSawJoin = (await host.next("UserJoined"))[0][0];

  for (const c of [host, guest]) await c.invoke("ChangeBeatmapAvailability", LOCALLY_AVAILABLE);
  await guest.invoke("ChangeState", UserState.Ready);
  result.hostNotReady = await refusal(host.invoke("StartMatch"), "a start with the host not ready");
  await host.invoke("ChangeState", UserState.Ready);
  await host.invoke("StartMatch");
  await load([host, guest]);
  await step("playing", { roomId: created.roomId, itemId });

  await guest.invoke("ChangeState", UserState.FinishedPlay);
  await host.invoke("ChangeState", UserState.FinishedPlay);
  for (const c of [host, guest]) await c.next("ResultsReady");
  result.nextItem = itemView((await guest.next("PlaylistItemAdded"))[0]);
  // The settings now name the next item (SettingsChanged after the queue moved on).
  const moved = await guest.nextWhere("SettingsChanged", (s) => s[1] === result.nextItem.id);
  result.currentItemAfter = moved[0][1];

  await guest.invoke("LeaveRoom");
  result.hostSawLeave = (await host.next("UserLeft"))[0][0];
  await host.invoke("LeaveRoom");
  await step("left", { roomId: created.roomId });
  return result;
});
