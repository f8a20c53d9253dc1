"""Every route dependency runs on the event loop, never in FastAPI's thread pool.

FastAPI runs a plain `def` dependency in anyio's thread pool: a thread hop per request
for what is a dictionary lookup or a small validation (issue 10's profile measured
~0.3 ms per request and 30 OS threads under load). This walks the app's routes so a
new sync dependency is caught where it is added.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from chatwait.app import create_app
from chatwait.config import Settings


def _runs_on_the_loop(call: Callable[..., Any]) -> bool:
    # A function, or an instance whose __call__ is (security schemes such as HTTPBearer).
    target = call if inspect.isroutine(call) else type(call).__call__
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def _sync_dependencies(dependant: Dependant) -> list[str]:
    found = []
    for sub in dependant.dependencies:
        if sub.call is not None and not _runs_on_the_loop(sub.call):
            found.append(getattr(sub.call, "__qualname__", repr(sub.call)))
        found.extend(_sync_dependencies(sub))
    return found


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router (FastAPI ≥ 0.120)
            yield from _api_routes(route.original_router.routes)


def test_no_route_dependency_runs_in_the_thread_pool() -> None:
    app = create_app(Settings(_env_file=None))
    routes = list(_api_routes(app.routes))
    assert any(route.path == "/chat/streaming" for route in routes)

    offenders = {
        route.path: found for route in routes if (found := _sync_dependencies(route.dependant))
    }

    assert offenders == {}
