"""What a chat says about itself: its welcome. (Its backend conversation_id is its
Chainlit thread id, so the history sidebar and the backend name it alike.)"""

from __future__ import annotations

from chatwait_ui.client import BackendError, BackendHealth

PROVIDER_NAMES = {
    "gemini": "Google Gemini",
    "openai-compatible": "an OpenAI-compatible endpoint",
}


def welcome_text(health: BackendHealth | None, api_url: str, error: BackendError | None) -> str:
    lines = [
        "### Welcome to ChatWait",
        "Ask anything. ChatWait answers through its FastAPI backend and the OpenAI Agents SDK.",
        "",
    ]
    if health is None:
        lines.append(f"⚠️ {error}" if error else f"⚠️ The backend at {api_url} did not answer.")
    elif health.provider == "offline":
        lines.append(
            f"**Model:** `{health.model}`, the built-in offline demo model: it answers "
            "without a key. Set `GEMINI_API_KEY` on the backend for real answers."
        )
    else:
        provider = PROVIDER_NAMES.get(health.provider, health.provider)
        lines.append(f"**Model:** `{health.model}` via {provider}.")
    lines += [
        "",
        "**Response mode:** *Streaming* shows the answer as it is written; *Wait* shows it "
        "when it is complete. Switch at any time in the chat settings (the ⚙ button next to "
        "the message box). The stop button cancels an answer.",
    ]
    return "\n".join(lines)
