/* SignalR framing and lazer's MessagePack conventions. Declarations only: see rust_core.h. */
