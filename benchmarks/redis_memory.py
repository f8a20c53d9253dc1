"""Redis memory per stream and per token, measured on a private redis-server.

Writes N finished streams of M tokens through RedisStreamStore (the real code path)
and reads `used_memory` before and after; reports bytes per stream and per token for
a few token sizes. Output: reports/redis_memory.{json,md}.

    python -m benchmarks.redis_memory
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from redis.asyncio import Redis

from chatwait.models.stream import StreamMeta, StreamOutcome
from chatwait.streams.redis import RedisStreamStore
from tests.support.redis_server import RedisServer


async def used_memory(client: Redis) -> int:
    info = await client.info("memory")
    return int(info["used_memory"])


async def measure(url: str, streams: int, tokens: int, token_text: str) -> dict[str, float]:
    store = RedisStreamStore(url, ttl_seconds=600)
    client = Redis.from_url(url)
    await client.flushall()
    before = await used_memory(client)
    for s in range(streams):
        meta = StreamMeta(
            stream_id=f"memory-bench-{s:06d}",
            owner="bench",
            conversation_id=f"conv_{s:022d}",
            model="gemini-2.5-flash",
            created_at=time.time(),
        )
        await store.create(meta)
        stream_id = meta.key  # the store's key: owner and stream_id
        for i in range(tokens):
            await store.append(stream_id, i, token_text)
        await store.heartbeat_producer(stream_id)
        await store.finish(
            stream_id,
            StreamOutcome(kind="done", response=token_text * tokens, token_count=tokens),
        )
    after = await used_memory(client)
    await client.aclose()
    await store.aclose()
    total = after - before
    return {
        "streams": streams,
        "tokens_per_stream": tokens,
        "token_chars": len(token_text),
        "bytes_total": total,
        "bytes_per_stream": round(total / streams),
        "bytes_per_token": round(total / (streams * tokens), 1),
    }


async def run(streams: int) -> list[dict[str, float]]:
    server = RedisServer()
    server.start()
    try:
        return [
            await measure(server.url, streams, tokens, text)
            for tokens, text in ((1, "x"), (200, "word "), (200, "a longer token text "))
        ]
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure Redis memory per stream and token.")
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    rows = asyncio.run(run(args.streams))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "redis_memory.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [
        "| streams | tokens each | chars per token | bytes per stream | bytes per token |",
        "|---|---|---|---|---|",
    ] + [
        f"| {r['streams']} | {r['tokens_per_stream']} | {r['token_chars']} "
        f"| {r['bytes_per_stream']} | {r['bytes_per_token']} |"
        for r in rows
    ]
    (args.out / "redis_memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
