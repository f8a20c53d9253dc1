"""`chatwait-ui`: serve the Chainlit UI, pointed at a ChatWait backend.

    chatwait-ui --host 127.0.0.1 --port 8001 [--api-url http://127.0.0.1:8000]

`--api-url` overrides CHATWAIT_API_URL. Configuration errors exit with status 2 and
one line that says what to fix.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from chatwait_ui.auth_secret import ensure_auth_secret
from chatwait_ui.client.plain_requests import probe_backend_auth
from chatwait_ui.config import UISettings

# How cli.py tells app.py what the backend wants (read there when Chainlit loads it).
BACKEND_AUTH_VARIABLE = "CHATWAIT_UI_BACKEND_AUTH"

APP_PATH = Path(__file__).resolve().parent / "app.py"
DEFAULT_PORT = 8001


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chatwait-ui", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
    parser.add_argument(
        "--api-url", help="the ChatWait backend (default: CHATWAIT_API_URL or 127.0.0.1:8000)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.api_url:
        os.environ["CHATWAIT_API_URL"] = args.api_url
    try:
        settings = UISettings()
    except ValidationError as error:
        problems = "; ".join(str(e["msg"]) for e in error.errors())
        print(f"chatwait-ui: invalid configuration: {problems}", file=sys.stderr)
        raise SystemExit(2) from None
    # The app module reads its settings again when Chainlit loads it; make sure it sees
    # the same backend URL.
    os.environ["CHATWAIT_API_URL"] = settings.chatwait_api_url
    # Chainlit's own runner reads host and port from these.
    os.environ["CHAINLIT_HOST"] = args.host
    os.environ["CHAINLIT_PORT"] = str(args.port)
    # Imported late: importing Chainlit reads its app root, which `chatwait_ui` sets.
    try:
        from chainlit.cli import run_chainlit
        from chainlit.server import app as chainlit_server
    except ImportError:
        # An API-only install (`pip install chatwait`) has the command but not Chainlit.
        print(
            "chatwait-ui: Chainlit is not installed; install the UI with "
            "`pip install 'chatwait[ui]'`",
            file=sys.stderr,
        )
        raise SystemExit(2) from None

    # Logins: Chainlit signs them with this secret, and app.py offers the login form
    # or logs everyone in as `local`, by what the backend says now.
    ensure_auth_secret(settings.chatwait_ui_secret_file)
    backend_auth = probe_backend_auth(settings)
    if backend_auth is None:
        os.environ.pop(BACKEND_AUTH_VARIABLE, None)
        print(
            f"chatwait-ui: the backend at {settings.chatwait_api_url} did not answer "
            "GET /me; offering both the login form and automatic login",
            file=sys.stderr,
        )
    else:
        os.environ[BACKEND_AUTH_VARIABLE] = backend_auth

    from chatwait_ui.offline_page import OfflinePageMiddleware

    chainlit_server.add_middleware(OfflinePageMiddleware)
    print(
        f"ChatWait UI: http://{args.host}:{args.port} (backend: {settings.chatwait_api_url})",
        flush=True,
    )
    run_chainlit(str(APP_PATH))
