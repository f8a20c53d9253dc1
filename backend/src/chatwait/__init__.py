"""ChatWait: a chat API over the OpenAI Agents SDK with wait and resumable SSE streaming."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chatwait")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
