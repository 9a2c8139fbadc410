//! SignalR framing and the MessagePack-CSharp conventions lazer uses.
