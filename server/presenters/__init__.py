"""Presenters: one function per wire shape, turning stored records into `server.models`
Structs. Services call them; nothing else builds a shape."""
