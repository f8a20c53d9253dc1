"""Who is chatting, and the API key their requests carry.

Logging in (app.py registers the callbacks Chainlit calls):
- The backend has keys: Chainlit's login form. User name = principal, password = that
  principal's API key; `GET /me` with the key must name the same principal.
- The backend has no keys: everyone is `local`, logged in without a form.

The key never leaves this process. Chainlit hands `cl.User.metadata` to the page and
only signs its login cookie, so the key is kept here, in `keyring`, by user
identifier, and looked up for every request. Chainlit's data-layer calls (open,
rename, delete a chat) get only a thread id: `asking_identifier()` says whose request
it is (the socket's session user, or the HTTP request's user that
`current_user_with_key` recorded). After the UI restarts the keyring is empty, so a
login cookie made before is answered with 401 and the page shows the login again.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Annotated

import chainlit as cl
from chainlit.auth import get_current_user, reuseable_oauth
from chainlit.context import ChainlitContextException, get_context
from chainlit.user import PersistedUser
from fastapi import Depends, HTTPException

from chatwait_ui.client import BackendError, ChatWaitClient
from chatwait_ui.connection import backend
from chatwait_ui.error_messages import HUMAN_MESSAGES

LOCAL_PRINCIPAL = "local"
logger = logging.getLogger("chatwait_ui.accounts")


class LoginExpired(BackendError):
    """This process holds no key for the person (it restarted since they logged in)."""

    def __init__(self) -> None:
        super().__init__(HUMAN_MESSAGES["login_expired"], code="login_expired", status_code=401)


class KeyRing:
    """User identifier -> the API key their requests carry (None: the backend has no keys)."""

    def __init__(self) -> None:
        self._keys: dict[str, str | None] = {}

    def remember(self, identifier: str, api_key: str | None) -> None:
        self._keys[identifier] = api_key

    def knows(self, identifier: str) -> bool:
        return identifier in self._keys

    def client_for(self, identifier: str | None) -> ChatWaitClient:
        """The backend client carrying this person's key. No identifier: nobody logged
        in (tests drive the handlers without a login), so no key."""
        if identifier is None:
            return backend.client
        if identifier not in self._keys:
            raise LoginExpired()
        return backend.client.with_key(self._keys[identifier])


keyring = KeyRing()
# The user of the HTTP request being served (see current_user_with_key).
_http_user: ContextVar[str | None] = ContextVar("chatwait_http_user", default=None)


def asking_identifier() -> str | None:
    """Whose request this is: the chat session's user inside a socket handler, else the
    user of the HTTP request; None when nobody logged in."""
    try:
        user = get_context().session.user
    except ChainlitContextException:
        user = None
    return user.identifier if user is not None else _http_user.get()


def client_for_asking_user() -> ChatWaitClient:
    return keyring.client_for(asking_identifier())


async def log_in_with_key(name: str, api_key: str) -> cl.User | None:
    """The password callback: the key must be valid and name this principal."""
    try:
        principal = await backend.client.with_key(api_key.strip()).me()
    except BackendError as error:
        # A wrong key is `unauthorized`; anything else is worth a line in the log.
        if error.code != "unauthorized":
            logger.warning("login of %r failed: %s", name, error)
        return None
    if principal.auth != "api_key" or principal.name != name.strip():
        return None
    keyring.remember(principal.name, api_key.strip())
    return cl.User(identifier=principal.name, display_name=principal.name)


async def log_in_as_local() -> cl.User | None:
    """The header callback: everyone is `local` while the backend has no keys."""
    try:
        principal = await backend.client.me()
    except BackendError as error:
        logger.warning("automatic login failed: %s", error)
        return None
    if principal.auth != "none":
        return None
    keyring.remember(principal.name, None)
    return cl.User(identifier=principal.name, display_name=principal.name)


async def current_user_with_key(
    token: Annotated[str, Depends(reuseable_oauth)],
) -> cl.User | PersistedUser | None:
    """Chainlit's `get_current_user` for its HTTP routes, plus: a login whose key this
    process does not hold is refused (401), and the user is recorded for the data layer."""
    user: cl.User | PersistedUser | None = await get_current_user(token)
    if user is None:
        return None
    if not keyring.knows(user.identifier):
        raise HTTPException(status_code=401, detail=HUMAN_MESSAGES["login_expired"])
    _http_user.set(user.identifier)
    return user
