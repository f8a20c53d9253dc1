"""`chatwait-ui` as a command: a bad configuration or a missing Chainlit is one line and
exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.servers import api_environment, chatwait_ui_command


def test_bad_api_url_exits_2_with_one_line_saying_what_to_fix(tmp_path: Path) -> None:
    result = subprocess.run(
        chatwait_ui_command("--api-url", "ftp://example"),
        env=api_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "chatwait-ui: invalid configuration: "
        "Value error, CHATWAIT_API_URL must start with http:// or https://"
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_without_the_ui_extra_it_says_how_to_install_it(tmp_path: Path) -> None:
    """An API-only install has the `chatwait-ui` script but no Chainlit."""
    # sys.modules[name] = None makes `import chainlit` fail as if it were not installed.
    program = (
        "import sys\n"
        "sys.modules['chainlit'] = None\n"
        "from chatwait_ui.cli import main\n"
        "main(['--port', '1'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        env=api_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "chatwait-ui: Chainlit is not installed; install the UI with `pip install 'chatwait[ui]'`"
    )
