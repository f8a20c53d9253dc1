"""Annotated dependency aliases, so a route's signature reads like its spec.

The getters are `async def` on purpose: FastAPI runs a sync dependency in a thread
pool, which would cost every request a thread hop for a dictionary lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from chatwait.config import Settings
from chatwait.services.admission import Admission
from chatwait.services.chat_agent import ChatAgentService
from chatwait.services.conversations import ConversationStore
from chatwait.services.limits import PrincipalLimits
from chatwait.services.llm_service import LanguageModel
from chatwait.services.streaming_service import StreamingService
from chatwait.streams.lifecycle import StreamSupervisor
from chatwait.streams.store import StreamStore


@dataclass
class Services:
    """Everything the lifespan builds once per process."""

    settings: Settings
    model: LanguageModel
    conversations: ConversationStore
    stream_store: StreamStore
    supervisor: StreamSupervisor
    chat: ChatAgentService
    streaming: StreamingService
    limits: PrincipalLimits
    admission: Admission


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_chat(request: Request) -> ChatAgentService:
    return (await get_services(request)).chat


async def get_streaming(request: Request) -> StreamingService:
    return (await get_services(request)).streaming


async def get_conversations(request: Request) -> ConversationStore:
    return (await get_services(request)).conversations


async def get_limits(request: Request) -> PrincipalLimits:
    return (await get_services(request)).limits


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ChatServiceDep = Annotated[ChatAgentService, Depends(get_chat)]
StreamingServiceDep = Annotated[StreamingService, Depends(get_streaming)]
ConversationStoreDep = Annotated[ConversationStore, Depends(get_conversations)]
LimitsDep = Annotated[PrincipalLimits, Depends(get_limits)]
