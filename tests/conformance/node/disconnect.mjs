// Waits, connected to the metadata hub, for the server to end the session (a restriction):
// prints "connected", then one JSON object with what the client saw; non-zero on failure.
// Usage: node disconnect.mjs <base-url> <token>
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

const [base, token] = process.argv.slice(2);
const connection = new signalR.HubConnectionBuilder()
  .withUrl(`${base}/signalr/metadata`, {
    accessTokenFactory: () => token,
    headers: { "X-Client-Session-ID": "node-disconnect" },
  })
  .withHubProtocol(new MessagePackHubProtocol())
  .configureLogging(signalR.LogLevel.None)
  .build();

const result = { disconnectRequested: false };
const timer = setTimeout(() => {
  console.log(JSON.stringify({ ...result, error: "timed out" }));
  process.exit(1);
}, 15000);
connection.on("DisconnectRequested", () => {
  result.disconnectRequested = true;
});
connection.onclose((error) => {
  clearTimeout(timer);
  result.closed = true;
  result.closeError = error ? String(error.message) : null;
  console.log(JSON.stringify(result));
  process.exit(0);
});
await connection.start();
console.log("connected");
