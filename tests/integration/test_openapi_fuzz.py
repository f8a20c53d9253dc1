"""Schemathesis fuzzes every operation of the running API over real HTTP.

Regression test of issue 11: it found 9 conformance failures (SSE responses described
only as `type: string`; rules the server enforces but the schema did not state, so
valid-by-schema requests were refused; 405 answers whose `Allow` header left out
POST/DELETE). Every operation, the streaming ones included, must answer as its schema
says (status, headers, body, each SSE event), and never with a 5xx.

The test runs the `schemathesis` command (every phase: examples, coverage with its
unsupported-method and missing-header cases, fuzzing, stateful) against a backend
served by uvicorn whose model is the upstream emulator. Schemathesis' pytest loader
(`schemathesis.pytest.from_fixture`) does not run on this pytest version.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import ServerThread
from tests.support.upstream_emulator import UpstreamEmulator

# Enough to hit every rule the fuzzer found, small enough to finish in well under a minute.
EXAMPLES_PER_OPERATION = 20
# Each request: the emulator answers at once, so a stream ends well within this.
REQUEST_TIMEOUT_SECONDS = 10
RUN_TIMEOUT_SECONDS = 300
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.parametrize("store_kind", ["memory"])
def test_every_operation_conforms_to_its_schema_and_never_answers_5xx(
    backend: ServerThread, upstream: UpstreamEmulator, tmp_path: Path
) -> None:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{backend.url}/openapi.json",
        "--checks=all",
        f"--max-examples={EXAMPLES_PER_OPERATION}",
        f"--request-timeout={REQUEST_TIMEOUT_SECONDS}",
        "--generation-deterministic",
        "--workers=1",
        "--continue-on-failure",
        "--no-color",
    ]
    root = Path(__file__).parents[2]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }

    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # Schemathesis writes its cache (.schemathesis/) there
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
    assert upstream.requests, "the fuzzer started at least one model run"
