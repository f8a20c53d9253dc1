"""`chatwait-api`: serve the API with uvicorn; `chatwait-api keygen NAME` makes a key."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import NoReturn

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from chatwait.app import create_app
from chatwait.auth import ApiKeyConfigError, generate_key, load_api_keys
from chatwait.config import Settings
from chatwait.middleware.logging import configure_logging

# An idle keep-alive connection is closed after this long. uvicorn has no timeout for
# reading a request's headers (slowloris): the fronting proxy bounds that, see
# docs/deployment.md. The proxy's own upstream keep-alive must be shorter than this, or
# it may reuse a connection uvicorn is closing.
TIMEOUT_KEEP_ALIVE_SECONDS = 10
# uvicorn's wait for open connections once our drain (chatwait/shutdown.py, up to
# SHUTDOWN_GRACE_SECONDS) has ended every stream: a backstop, normally unused.
TIMEOUT_GRACEFUL_SHUTDOWN_SECONDS = 5


def app_factory() -> FastAPI:
    """What each uvicorn worker process calls: logging first, then the app."""
    settings = Settings()
    configure_logging(settings)
    return create_app(settings)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def fail(message: str) -> NoReturn:
    print(f"chatwait-api: {message}", file=sys.stderr)
    raise SystemExit(2)


def keygen(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="chatwait-api keygen",
        description="Print a new random API key for NAME, and the line for "
        "CHATWAIT_API_KEYS_FILE that stores only its SHA-256.",
    )
    parser.add_argument("name", help="the principal's name, [A-Za-z0-9_.-]{1,64}")
    args = parser.parse_args(argv)
    try:
        key, line = generate_key(args.name)
    except ApiKeyConfigError as error:
        fail(str(error))
    print(f"key:       {key}")
    print(f"file line: {line}")
    print("Give the key to its holder; put the file line in CHATWAIT_API_KEYS_FILE.")


@contextlib.contextmanager
def shared_metrics_directory(workers: int) -> Iterator[None]:
    """With several workers, a fresh PROMETHEUS_MULTIPROC_DIR for their metric files.

    prometheus-client reads the variable when a worker first imports it, so it is set
    here, before uvicorn spawns the workers; /metrics then sums all of them. The
    directory must start empty (old files would add a previous run's counts), so it is
    a new temporary one, removed at exit. An operator's own PROMETHEUS_MULTIPROC_DIR is
    used as it is and left in place.
    """
    if workers <= 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    directory = tempfile.mkdtemp(prefix="chatwait-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(directory, ignore_errors=True)


def unshared_store(settings: Settings) -> str | None:
    """Why the configured stores cannot serve several worker processes, or None if they can.

    memory:// streams live in one process, so a resume can reach a worker that never saw
    its stream. A SQLite file is shared, but the per-conversation lease is held in one
    process, so two workers could run two turns of one conversation and interleave its
    history.
    """
    if settings.stream_store_url.startswith("memory://"):
        return "STREAM_STORE_URL=memory:// keeps each stream inside one worker"
    if settings.session_store_url.startswith("sqlite://"):
        return (
            "SESSION_STORE_URL=sqlite://… serialises a conversation's turns only inside one worker"
        )
    return None


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["keygen"]:
        keygen(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="chatwait-api", description="Serve the ChatWait API.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; more need Redis)"
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        # Name the variable and the problem, never the value: it may be a key.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper() or 'settings'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)
        )
        print(f"chatwait-api: invalid configuration: {problems}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        keys = load_api_keys(settings)
    except ApiKeyConfigError as error:
        fail(f"invalid API keys: {error}")
    if not keys.enabled and not is_loopback(args.host) and not settings.chatwait_allow_anonymous:
        # Protected mode, as Redis and Jupyter do it: no keys means anyone who can
        # reach the port may spend the model budget and read every conversation.
        fail(
            f"refusing to serve {args.host} without API keys: set CHATWAIT_API_KEYS "
            "(or CHATWAIT_API_KEYS_FILE), or CHATWAIT_ALLOW_ANONYMOUS=true to let "
            "anyone in as 'local'."
        )
    configure_logging(settings)
    unshared = unshared_store(settings) if args.workers > 1 else None
    if unshared is not None:
        # One sentence, no traceback: the operator fixes the environment and retries.
        fail(
            f"--workers {args.workers} needs stores every worker shares, but {unshared}; "
            "set STREAM_STORE_URL and SESSION_STORE_URL to redis://… or run one worker."
        )
    with shared_metrics_directory(args.workers):
        uvicorn.run(
            "chatwait.cli:app_factory",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # Our middleware writes one access line per request without the query string
            # (which may carry a user's message); uvicorn's own would repeat it with it.
            access_log=False,
            log_config=None,
            timeout_keep_alive=TIMEOUT_KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=TIMEOUT_GRACEFUL_SHUTDOWN_SECONDS,
        )


if __name__ == "__main__":
    main()
