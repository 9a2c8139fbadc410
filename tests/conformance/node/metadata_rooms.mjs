// Watches a room through the metadata hub with @microsoft/signalr + its MessagePack protocol.
// Usage: node metadata_rooms.mjs <base-url> <token> <room-id>
// Prints {"stats": ...} once watching (the test then plays a score and opens a daily
// challenge), then one JSON object with what arrived; exits non-zero on any failure.
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

const [base, token, roomIdText] = process.argv.slice(2);
const roomId = Number(roomIdText);

const connection = new signalR.HubConnectionBuilder()
  .withUrl(`${base}/signalr/metadata`, {
    accessTokenFactory: () => token,
    headers: { "X-Client-Session-ID": "node-metadata-rooms" },
  })
  .withHubProtocol(new MessagePackHubProtocol())
  .configureLogging(signalR.LogLevel.Warning)
  .build();

function nextCall(target, predicate = () => true, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${target}`)), timeoutMs);
    const handler = (...args) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      connection.off(target, handler);
      resolve(args);
    };
    connection.on(target, handler);
  });
}

const onConnect = nextCall("DailyChallengeUpdated");
await connection.start();
const result = { dailyChallengeOnConnect: (await onConnect)[0] };
const scoreSet = nextCall("MultiplayerRoomScoreSet");
const opened = nextCall("DailyChallengeUpdated", (info) => info !== null);
const stats = await connection.invoke("BeginWatchingMultiplayerRoom", roomId);
process.stdout.write(JSON.stringify({ stats }) + "\n");
result.scoreSet = (await scoreSet)[0];
result.dailyChallenge = (await opened)[0];
await connection.invoke("EndWatchingMultiplayerRoom", roomId);
await connection.stop();
process.stdout.write(JSON.stringify(result) + "\n");
