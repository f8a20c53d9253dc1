"""Stream buffering: the store interface, its implementations and the run lifecycle."""

from chatwait.streams.store import StreamStore, create_stream_store

__all__ = ["StreamStore", "create_stream_store"]
