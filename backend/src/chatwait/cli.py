"""`chatwait-api`: serve the API with uvicorn."""

from __future__ import annotations

import argparse
import sys

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from chatwait.app import create_app
from chatwait.config import Settings
from chatwait.middleware.logging import configure_logging


def app_factory() -> FastAPI:
    """What each uvicorn worker process calls: logging first, then the app."""
    settings = Settings()
    configure_logging(settings)
    return create_app(settings)


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
    configure_logging(settings)
    unshared = unshared_store(settings) if args.workers > 1 else None
    if unshared is not None:
        # One sentence, no traceback: the operator fixes the environment and retries.
        print(
            f"chatwait-api: --workers {args.workers} needs stores every worker shares, "
            f"but {unshared}; set STREAM_STORE_URL and SESSION_STORE_URL to redis://… "
            "or run one worker.",
            file=sys.stderr,
        )
        raise SystemExit(2)
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
    )


if __name__ == "__main__":
    main()
