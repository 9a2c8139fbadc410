// Queue limits: a guest may have 3 items waiting, the host 50 (the room's first item counts);
// in host-only mode a guest may not add at all.
import { QueueMode, connectAll, openRoom, item, refusal, run, settings } from "./lib.mjs";

run(async (connections) => {
  const [host, guest] = await connectAll(connections);
  await openRoom(host, [guest], { queueMode: QueueMode.AllPlayers });
  const result = {};
  for (let n = 0; n < 3; n++) await guest.invoke("AddPlaylistItem", item());
  result.guestFourth = await refusal(guest.invoke("AddPlaylistItem", item()), "a fourth guest item");
  for (let n = 1; n < 50; n++) await host.invoke("AddPlaylistItem", item());
  result.hostFiftyFirst = await refusal(host.invoke("AddPlaylistItem", item()), "a 51st host item");
  await host.invoke("ChangeSettings", settings({ queueMode: QueueMode.HostOnly }));
  result.guestInHostOnly = await refusal(guest.invoke("AddPlaylistItem", item()), "a guest item in host-only mode");
  return result;
});
