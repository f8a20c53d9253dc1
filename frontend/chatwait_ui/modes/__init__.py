"""Response modes: how an answer reaches the chat (all at once, or token by token)."""
