// Drives our hubs with @microsoft/signalr + its MessagePack protocol (clients.md §2).
// Usage: node client.mjs <base-url> <player-token> <player-id> <watcher-token> <silence-seconds>
// Prints one JSON object with what was observed; exits non-zero on any failure.
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

const [base, playerToken, playerIdText, watcherToken, silenceText] = process.argv.slice(2);
const playerId = Number(playerIdText);
const silenceMs = Number(silenceText) * 1000;
const result = {};

function connect(hub, token, skipNegotiation) {
  const options = {
    accessTokenFactory: () => token,
    headers: { "X-Client-Session-ID": `node-${hub}-${skipNegotiation}` },
  };
  const url = `${base}/signalr/${hub}`;
  if (skipNegotiation) {
    options.skipNegotiation = true;
    options.transport = signalR.HttpTransportType.WebSockets;
  }
  return new signalR.HubConnectionBuilder()
    .withUrl(url, options)
    .withHubProtocol(new MessagePackHubProtocol())
    .configureLogging(signalR.LogLevel.Warning)
    .build();
}

function waitFor(connection, target, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${target}`)), timeoutMs);
    connection.on(target, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

const state = (s) => [1816113, 0, [["HD", []]], s, {}];
const bundle = [
  [123456, 0.98, 10, 12, {}, [1.0, 2.0, 3, 0.5, 0.0], [new Date(0), 0], [["HD", []]], null, null],
  [[0.0, 100.5, 50.25, 1], [16.0, 101.5, 50.25, 0]],
];

try {
  // Metadata with negotiation: awaited invocations get completions; a result comes back;
  // the server calls the client back.
  const metadata = connect("metadata", playerToken, false);
  const daily = waitFor(metadata, "DailyChallengeUpdated");
  const echo = waitFor(metadata, "UserPresenceUpdated");
  await metadata.start();
  result.dailyChallenge = (await daily)[0];
  await metadata.invoke("UpdateStatus", 2);
  result.presenceEcho = await echo;
  // Everything queued so far, then nothing after the latest id (lazer loops until empty).
  result.latestQueueId = (await metadata.invoke("GetChangesSince", 0))[1];
  result.changes = await metadata.invoke("GetChangesSince", result.latestQueueId);

  // Spectator: the player negotiates, the watcher skips negotiation.
  const player = connect("spectator", playerToken, false);
  const watcher = connect("spectator", watcherToken, true);
  await player.start();
  await watcher.start();
  const started = waitFor(player, "UserStartedWatching");
  await watcher.invoke("StartWatchingUser", playerId);
  result.startedWatching = (await started)[0];
  const began = waitFor(watcher, "UserBeganPlaying");
  // No score token: relayed as the official server does, not recorded (a replay needs a
  // token the server issued, reliability.md S-RT-7).
  await player.invoke("BeginPlaySessionV2", null, state(1));
  result.began = await began;
  const frames = waitFor(watcher, "UserSentFrames");
  await player.send("SendFrameDataV2", null, bundle); // non-blocking: no completion
  result.frames = await frames;
  const finished = waitFor(watcher, "UserFinishedPlaying");
  await player.invoke("EndPlaySessionV2", null, 3);
  result.finished = await finished;
  try {
    await player.invoke("NoSuchMethod");
  } catch (error) {
    result.unknownMethodError = String(error.message);
  }

  // Silence: no application messages; server pings must keep every connection up.
  await new Promise((r) => setTimeout(r, silenceMs));
  result.statesAfterSilence = [metadata.state, player.state, watcher.state];
  result.changesAfterSilence = await metadata.invoke("GetChangesSince", result.latestQueueId);
  await Promise.all([metadata.stop(), player.stop(), watcher.stop()]);
  console.log(JSON.stringify(result));
} catch (error) {
  console.log(JSON.stringify({ error: String(error && error.stack ? error.stack : error), result }));
  process.exit(1);
}
