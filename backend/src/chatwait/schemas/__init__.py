"""Wire schemas: request bodies, responses, SSE event payloads and the error body."""
