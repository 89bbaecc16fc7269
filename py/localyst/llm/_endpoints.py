"""Where messages can go: the known OpenAI-compatible services, and one chosen endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

OPENAI_HOST = "api.openai.com"
#: The in-page model's base URL: never fetched (llm._inpage answers it inside the tab), and
#: on a reserved name that cannot resolve, should anything ever try.
IN_PAGE_URL = "http://in-page.invalid/v1"
IN_PAGE = "In this page"


@dataclass(frozen=True)
class Preset:
    """A known service: its base URL ("" for Custom), whether it needs a key, and for a
    server people run themselves, how to start it so that a web page may call it (Markdown;
    ``{origin}`` stands for this site's origin)."""

    base_url: str
    needs_key: bool
    start: str = ""

    def how_to_start(self, origin: str) -> str:
        return self.start.replace("{origin}", origin or "https://this-site's-address")


_LOCAL_NETWORK = " If the browser asks whether this site may reach devices on your network, allow it."


PRESETS: dict[str, Preset] = {
    "OpenAI": Preset("https://api.openai.com/v1", True),
    "OpenRouter": Preset("https://openrouter.ai/api/v1", True),
    "Groq": Preset("https://api.groq.com/openai/v1", True),
    "Together": Preset("https://api.together.xyz/v1", True),
    "Mistral": Preset("https://api.mistral.ai/v1", True),
    "Ollama": Preset(
        "http://localhost:11434/v1",
        False,
        "Start Ollama with this page allowed: `OLLAMA_ORIGINS={origin} ollama serve` (for the desktop app, set "
        "`OLLAMA_ORIGINS` in the environment and restart it), then `ollama pull qwen2.5-coder:7b` and load the "
        "model list." + _LOCAL_NETWORK,
    ),
    "LM Studio": Preset(
        "http://localhost:1234/v1",
        False,
        "Start LM Studio's server with CORS on: Developer tab → Settings → *Enable CORS*, or "
        "`lms server start --cors`; load a model, then load the model list." + _LOCAL_NETWORK,
    ),
    "llama.cpp": Preset(
        "http://localhost:8080/v1",
        False,
        "Start it with the model's own chat template: `llama-server -m model.gguf --jinja --port 8080`. "
        "It answers any page by default; `--jinja` lets the template carry tool calls." + _LOCAL_NETWORK,
    ),
    IN_PAGE: Preset(IN_PAGE_URL, False),
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
        if self.in_page:
            return "the model in this page"
        return urlsplit(self.base_url).netloc or self.base_url

    @property
    def in_page(self) -> bool:
        """The model runs in this tab (llm._inpage), not behind a URL."""
        return self.base_url.strip().rstrip("/") == IN_PAGE_URL

    @property
    def is_openai(self) -> bool:
        return urlsplit(self.base_url).hostname == OPENAI_HOST
