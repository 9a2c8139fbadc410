"""Realtime multiplayer rules, without I/O (the hub that drives them is not built yet)."""
