"""Run inside a venv holding osu.py[notifications] 4.3.1 (it needs websockets<14, so it
cannot share the test venv): connect osu.py's NotificationWebsocket to our notification
socket, send chat.start, and print each chat event it parses (and `logout`, and a dropped
connection) as one JSON line.

usage: python listen.py WS_URL ACCESS_TOKEN SECONDS
"""

import asyncio
import contextlib
import json
import sys
from types import SimpleNamespace

from osu import NotificationWebsocket


def say(**fields):
    print(json.dumps(fields), flush=True)


class Listener(NotificationWebsocket):
    async def on_ready(self):
        await self.chat_start()
        say(event="started")

    async def on_chat_channel_join(self, channel):
        say(event="join", channel_id=channel.channel_id, name=channel.name)

    async def on_chat_channel_part(self, channel):
        say(event="part", channel_id=channel.channel_id)

    async def on_chat_message_new(self, messages, users):
        say(
            event="message",
            messages=[
                {"message_id": m.message_id, "content": m.content, "sender_id": m.sender_id}
                for m in messages
            ],
            users=[u.id for u in users],
        )

    async def on_logout(self):
        say(event="logout")

    async def on_unplanned_disconnect(self):
        say(event="disconnected")


async def main(url, token, seconds):
    listener = Listener(url, SimpleNamespace(token=token), loop=asyncio.get_running_loop())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(listener._run(), seconds)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
