// Three users fill a round-robin queue; every user's view of the queue order at the end.
// Items: the host's first (with the room), guest A's two, guest B's one, the host's second;
// then the first item is played and the queue is renumbered without it.
import {
  QueueMode, UserState, connectAll, item, itemView, load, openRoom, run, sleep,
} from "./lib.mjs";

run(async (connections) => {
  const [host, a, b] = await connectAll(connections);
  const room = await openRoom(host, [a, b], { queueMode: QueueMode.AllPlayersRoundRobin });
  // Each user's playlist as the callbacks leave it: id -> {owner, order, expired}.
  const views = [host, a, b].map(() => new Map(room.playlist.map((i) => [i.id, i])));
  [host, a, b].forEach((c, n) => {
    const track = (wire) => views[n].set(wire[0], itemView(wire));
    c.on("PlaylistItemAdded", track);
    c.on("PlaylistItemChanged", track);
  });
  for (const adder of [a, a, b, host]) {
    await adder.invoke("AddPlaylistItem", item());
    // Every user sees each addition before the next one is made.
    for (const c of [host, a, b]) await c.next("PlaylistItemAdded");
  }
  await sleep(300); // the reorder's PlaylistItemChanged callbacks follow the addition
  const ordered = (view) =>
    [...view.values()].filter((i) => !i.expired).sort((x, y) => x.order - y.order);
  const queues = () =>
    views.map((view) => ordered(view).map((i) => ({ id: i.id, owner: i.owner, order: i.order })));
  const result = { firstItem: room.playlist[0].id, currentItem: room.currentItem, queues: queues() };

  // Everyone plays the first item: it expires and the queue is renumbered without it.
  for (const c of [a, b, host]) await c.invoke("ChangeState", UserState.Ready);
  await host.invoke("StartMatch");
  await load([host, a, b]);
  for (const c of [host, a, b]) await c.invoke("ChangeState", UserState.FinishedPlay);
  for (const c of [host, a, b]) await c.next("ResultsReady");
  const moved = await host.nextWhere("SettingsChanged", (s) => s[1] !== room.currentItem);
  await sleep(300);
  result.afterPlay = { currentItem: moved[0][1], queues: queues(), expired: views[0].get(room.currentItem).expired };
  return result;
});
