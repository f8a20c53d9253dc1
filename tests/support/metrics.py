"""Reading a Prometheus text scrape in tests: one sample's value by name and labels."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    """The samples of one `GET /metrics`, keyed by sample name and label set."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return cls(samples)

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when it has not been recorded yet."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}


async def scrape(http: httpx.AsyncClient, base_url: str = "") -> Scrape:
    response = await http.get(f"{base_url}/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape.parse(response.text)


async def scrape_until(
    http: httpx.AsyncClient, predicate: Callable[[Scrape], bool], base_url: str = ""
) -> Scrape:
    """Scrape until `predicate` holds (a producer records its end just after `done`)."""
    deadline = time.monotonic() + 5
    while True:
        result = await scrape(http, base_url)
        if predicate(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)
