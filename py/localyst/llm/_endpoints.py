"""Where messages can go: the known OpenAI-compatible services, and one chosen endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

OPENAI_HOST = "api.openai.com"


@dataclass(frozen=True)
class Preset:
    """A known service: its base URL ("" for Custom) and whether it needs a key."""

    base_url: str
    needs_key: bool


PRESETS: dict[str, Preset] = {
    "OpenAI": Preset("https://api.openai.com/v1", True),
    "OpenRouter": Preset("https://openrouter.ai/api/v1", True),
    "Groq": Preset("https://api.groq.com/openai/v1", True),
    "Together": Preset("https://api.together.xyz/v1", True),
    "Mistral": Preset("https://api.mistral.ai/v1", True),
    "Ollama": Preset("http://localhost:11434/v1", False),
    "LM Studio": Preset("http://localhost:1234/v1", False),
    "Custom": Preset("", False),
}


@dataclass(frozen=True)
class Endpoint:
    """One configured endpoint. The key is left out of repr so it cannot leak into logs."""

    base_url: str
    api_key: str = field(default="", repr=False)
    model: str = ""

    @property
    def host(self) -> str:
        """host[:port] of the base URL, for messages to the person."""
        return urlsplit(self.base_url).netloc or self.base_url

    @property
    def is_openai(self) -> bool:
        return urlsplit(self.base_url).hostname == OPENAI_HOST
