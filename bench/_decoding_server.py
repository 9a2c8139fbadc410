"""`python -m server serve`, except that the spectator relay decodes and re-encodes every
frame bundle (the typed codec), as a server without a byte-splicing relay must.

The baseline for bench_hubs.py. Bench-only: the server itself never does this.
"""

from __future__ import annotations

import sys

import server.core.msgpack as codec


def decoding_relay(message: bytes, user_id: int, *, validate: bool) -> codec.FrameRelay:
    """SendFrameDataV2(token, bundle) -> UserSentFrames(userId, bundle) through full decoding."""
    envelope = codec.parse_envelope(message)
    token, bundle = codec.decode("long?,FrameDataBundle", envelope.payload or b"")
    args = codec.encode("int,FrameDataBundle", [user_id, bundle])
    uid_len = len(codec.encode("int", user_id))
    out = codec.encode_invocation("UserSentFrames", args)
    return codec.FrameRelay(token, args, 1 + uid_len, len(args) - 1 - uid_len, out)


codec.relay_frames = decoding_relay

if __name__ == "__main__":
    from server.__main__ import main

    sys.argv[0] = "server"
    sys.exit(main())
