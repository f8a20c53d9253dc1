"""The benchmarks run end to end and write every row of their reports.

Small sizes (`--quick`), real processes: the upstream emulator, `chatwait-api`, the
bare relay and redis-server. Nothing here asserts a time: the numbers are for people
to read, the test only proves that the instrument works and its report is complete.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import bench, redis_memory
from benchmarks.plan import QUICK

EXPECTED_ROWS = [
    "ttft_one_p50",
    "burst_ttft_p50",
    "burst_ttft_p99",
    "wait_throughput",
    "token_cpu",
    "slow_gap_p99",
    "cpu_per_wait",
    "cpu_per_stream",
    "token_wall",
    "idle_stream_bytes",
    "idle_stream_fds",
    "finished_stream_bytes",
    "errors",
    "redis_token_cpu",
    "redis_server_token_cpu",
    "redis_token_bytes",
    "workers_throughput",
]
# Rows whose value may legitimately be zero or negative at quick sizes: a count, a
# memory delta, CPU time read from /proc in 10 ms ticks over a short run.
MAY_BE_ZERO = {
    "errors",
    "idle_stream_fds",
    "idle_stream_bytes",
    "finished_stream_bytes",
    "token_cpu",
    "cpu_per_wait",
    "cpu_per_stream",
    "redis_token_cpu",
    "redis_server_token_cpu",
}


def test_quick_benchmark_writes_every_row_both_sides_and_the_plots(tmp_path: Path) -> None:
    out, docs_img = tmp_path / "reports", tmp_path / "img"

    bench.main(["--quick", "--out", str(out), "--docs-img", str(docs_img)])

    report = json.loads((out / "benchmark.json").read_text())
    rows = {row["key"]: row for row in report["rows"]}
    assert list(rows) == EXPECTED_ROWS
    for key, row in rows.items():
        assert isinstance(row["chatwait"], float | int) or key == "errors", key
        if key not in MAY_BE_ZERO:
            assert row["chatwait"] > 0, key
    for key in ("ttft_one_p50", "burst_ttft_p50", "wait_throughput", "token_wall"):
        assert rows[key]["relay"] > 0, key
        assert rows[key]["ratio"] == pytest.approx(rows[key]["chatwait"] / rows[key]["relay"])
    for key in ("ttft_one_p50", "burst_ttft_p99", "wait_throughput", "slow_gap_p99"):
        assert isinstance(rows[key]["met"], bool), key
    assert rows["errors"]["errors_chatwait"] == 0
    assert rows["errors"]["errors_relay"] == 0
    assert set(report["throughput_curve"]["chatwait"]) == {"1", "10"}
    assert len(report["samples"]["burst"]["relay"]) == QUICK.burst_streams

    markdown = (out / "benchmark.md").read_text()
    assert "| scenario | unit | ChatWait | bare relay | ratio | target | met? |" in markdown
    assert markdown.count("\n| ") == len(EXPECTED_ROWS) + 1  # the header and every row
    assert report["machine"]["commit"] in markdown
    for plot in ("benchmark-ttft.png", "benchmark-throughput.png"):
        assert (out / plot).read_bytes().startswith(b"\x89PNG")
        assert (docs_img / plot).read_bytes() == (out / plot).read_bytes()


def test_redis_memory_benchmark_writes_its_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", ["redis_memory", "--streams", "3", "--out", str(tmp_path)])

    redis_memory.main()

    rows = json.loads((tmp_path / "redis_memory.json").read_text())
    assert [row["tokens_per_stream"] for row in rows] == [1, 200, 200]
    assert all(row["bytes_per_stream"] > 0 for row in rows)
    assert "bytes per token" in (tmp_path / "redis_memory.md").read_text()
