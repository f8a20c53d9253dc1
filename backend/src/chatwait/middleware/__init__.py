"""ASGI middleware: request context and access log, body limit, CORS."""
