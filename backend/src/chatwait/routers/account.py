"""Who the caller is (`/me`) and what it used today (`/usage`)."""

from __future__ import annotations

from fastapi import APIRouter

from chatwait.api.auth import PrincipalDep
from chatwait.api.errors import error_responses
from chatwait.deps import LimitsDep
from chatwait.schemas.conversations import Me, UsageLimits, UsageReport

router = APIRouter(tags=["account"])


@router.get(
    "/me",
    response_model=Me,
    summary="The principal of the caller's key",
    responses=error_responses(401),
)
async def me(principal: PrincipalDep) -> Me:
    return Me(principal=principal.name, auth=principal.auth)


@router.get(
    "/usage",
    response_model=UsageReport,
    summary="Runs and tokens of the current UTC day, with the limits that apply",
    responses=error_responses(401, 503),
)
async def usage(principal: PrincipalDep, limits: LimitsDep) -> UsageReport:
    today = await limits.usage(principal.name)
    return UsageReport(
        principal=principal.name,
        period_start=today.period_start,
        runs=today.runs,
        input_tokens=today.input_tokens,
        output_tokens=today.output_tokens,
        total_tokens=today.total_tokens,
        limits=UsageLimits(
            rate_limit_per_minute=limits.rate_limit_per_minute,
            max_concurrent_runs=limits.max_concurrent_runs,
            daily_token_budget=limits.daily_token_budget,
        ),
    )
