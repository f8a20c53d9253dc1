"""The benchmark runs end to end and writes its report (it asserts no timings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import redis_memory, stream_benchmark


def test_quick_benchmark_writes_json_and_markdown_reports(tmp_path: Path) -> None:
    stream_benchmark.main(["--quick", "--out", str(tmp_path)])

    report = json.loads((tmp_path / "stream_benchmark.json").read_text())
    assert report["wait"]["count"] == 3
    assert [round_["concurrency"] for round_ in report["streams"]] == [1, 3]
    assert all(round_["tokens_per_stream"] == 20 for round_ in report["streams"])
    assert report["resume"]["count"] == 3
    markdown = (tmp_path / "stream_benchmark.md").read_text()
    assert "## Concurrent streams" in markdown


def test_redis_memory_benchmark_writes_its_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", ["redis_memory", "--streams", "3", "--out", str(tmp_path)])

    redis_memory.main()

    rows = json.loads((tmp_path / "redis_memory.json").read_text())
    assert [row["tokens_per_stream"] for row in rows] == [1, 200, 200]
    assert all(row["bytes_per_stream"] > 0 for row in rows)
    assert "bytes per token" in (tmp_path / "redis_memory.md").read_text()
