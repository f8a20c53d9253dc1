"""The benchmark's report: rows with both sides and their ratio, as Markdown, JSON, PNG.

A `Row` holds one scenario's median for ChatWait and for the bare relay; its target is
a ratio bound (ChatWait / relay), or None when the row is reported, not judged.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server; must come before pyplot
import matplotlib.pyplot as plt

TTFT_PLOT = "benchmark-ttft.png"
THROUGHPUT_PLOT = "benchmark-throughput.png"


@dataclass
class Row:
    """One line of the table."""

    key: str
    scenario: str
    unit: str
    chatwait: float | None
    relay: float | None = None
    # "max": ChatWait / relay must stay at or below `bound`; "min": at or above it.
    bound: float | None = None
    direction: str = "max"
    target_text: str = "reported"
    errors_chatwait: int = 0
    errors_relay: int = 0

    @property
    def ratio(self) -> float | None:
        if self.chatwait is None or not self.relay:
            return None
        return self.chatwait / self.relay

    @property
    def met(self) -> bool | None:
        if self.key == "errors":
            return self.errors_chatwait == 0 and self.errors_relay == 0
        if self.bound is None or self.ratio is None:
            return None
        return self.ratio <= self.bound if self.direction == "max" else self.ratio >= self.bound


@dataclass
class Report:
    machine: dict[str, Any]
    parameters: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    # Raw samples for the plots: {"ttft_one": {"chatwait": [...], "relay": [...]}, ...}
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    # {"chatwait": {concurrency: requests/s}, "relay": {...}}
    throughput_curve: dict[str, dict[int, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def row(self, key: str) -> Row:
        return next(r for r in self.rows if r.key == key)


def _number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _met(row: Row) -> str:
    return {True: "yes", False: "**no**", None: "—"}[row.met]


def markdown(report: Report) -> str:
    machine = report.machine
    lines = [
        "# ChatWait benchmark: ChatWait vs the bare Agents SDK relay",
        "",
        f"{machine['date']}, commit `{machine['commit']}`. {machine['cpu']} × "
        f"{machine['cpus']} CPUs, {machine['memory_gb']} GB, Python {machine['python']}, "
        f"{machine['platform']}; load average at start {machine['load_average']}. "
        f"Servers pinned: {machine['pinning']}.",
        "",
        f"Parameters: `{json.dumps(report.parameters)}`. Each value is the median of "
        "its rounds; the two servers run alternately against the same upstream emulator. "
        "See docs/performance.md for what each row means.",
        "",
        "| scenario | unit | ChatWait | bare relay | ratio | target | met? |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report.rows:
        if row.key == "errors":
            cw, relay = str(row.errors_chatwait), str(row.errors_relay)
        else:
            cw, relay = _number(row.chatwait), _number(row.relay)
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
        lines.append(
            f"| {row.scenario} | {row.unit} | {cw} | {relay} | {ratio} "
            f"| {row.target_text} | {_met(row)} |"
        )
    lines += ["", *(f"- {note}" for note in report.notes)]
    lines += ["", f"![time to first token]({TTFT_PLOT})", f"![throughput]({THROUGHPUT_PLOT})"]
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> dict[str, Any]:
    data = asdict(report)
    for row, raw in zip(report.rows, data["rows"], strict=True):
        raw["ratio"], raw["met"] = row.ratio, row.met
    return data


def _ecdf(axis: Any, values: list[float], label: str) -> None:
    ordered = sorted(values)
    if ordered:
        heights = [(i + 1) / len(ordered) for i in range(len(ordered))]
        axis.step(ordered, heights, where="post", label=label)


def plot(report: Report, out: Path) -> list[Path]:
    """Two PNGs: TTFT distributions (one stream, burst), throughput vs concurrency."""
    written = []
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, (key, title) in zip(
        axes,
        (("ttft_one", "one stream at a time"), ("burst", "burst of new streams")),
        strict=True,
    ):
        for side, label in (("chatwait", "ChatWait"), ("relay", "bare SDK relay")):
            _ecdf(axis, report.samples.get(key, {}).get(side, []), label)
        axis.set_title(f"Time to first token: {title}")
        axis.set_xlabel("ms")
        axis.set_ylabel("fraction of streams")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(out / TTFT_PLOT, dpi=100)
    plt.close(figure)
    written.append(out / TTFT_PLOT)

    figure, axis = plt.subplots(figsize=(6, 4))
    for side, label in (("chatwait", "ChatWait"), ("relay", "bare SDK relay")):
        curve = report.throughput_curve.get(side, {})
        levels = sorted(curve)
        axis.plot(levels, [curve[c] for c in levels], marker="o", label=label)
    axis.set_title("POST /chat/wait throughput (one worker, one core)")
    axis.set_xlabel("concurrent clients")
    axis.set_ylabel("requests / s")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(out / THROUGHPUT_PLOT, dpi=100)
    plt.close(figure)
    written.append(out / THROUGHPUT_PLOT)
    return written


def write(report: Report, out: Path) -> list[Path]:
    """reports/benchmark.{md,json} and the plots; returns the plot paths."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.md").write_text(markdown(report))
    (out / "benchmark.json").write_text(json.dumps(to_json(report), indent=2) + "\n")
    return plot(report, out)
