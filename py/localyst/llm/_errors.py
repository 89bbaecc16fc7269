"""Turns any failure into a message a person can act on: what happened, what to do, no traceback."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import openai

from ._browser import page_origin
from ._endpoints import Endpoint
from ._exceptions import CorsRefused, StreamCut

SERVER_SAYS_LIMIT = 300
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


@dataclass(frozen=True)
class Problem:
    title: str
    detail: str
    retryable: bool


def describe(exc: BaseException, endpoint: Endpoint) -> Problem:
    """The Problem behind ``exc``; the API key never appears in it, even if the server echoed it."""
    problem = _describe(exc, endpoint)
    key = endpoint.api_key
    if len(key) >= 4:
        problem = Problem(problem.title.replace(key, "•••"), problem.detail.replace(key, "•••"), problem.retryable)
    return problem


def _describe(exc: BaseException, endpoint: Endpoint) -> Problem:
    host = endpoint.host
    if isinstance(exc, StreamCut):
        return Problem(
            "The answer was cut off",
            "The connection closed before the model finished. What arrived is kept and marked incomplete; ask again to retry.",
            True,
        )
    if isinstance(exc, CorsRefused):
        return Problem(f"{host} refused this page (CORS)", _cors_advice(endpoint, exc.page_origin), False)
    if isinstance(exc, openai.APITimeoutError):
        return Problem("The model took too long", f"{host} did not answer in time. It may be busy or loading the model; try again.", True)
    if isinstance(exc, openai.APIConnectionError):
        return _unreachable(endpoint)
    if endpoint.in_page and isinstance(exc, (openai.APIStatusError, openai.APIError)):
        said = _message(exc) if isinstance(exc, openai.APIStatusError) else exc.message
        return Problem("The model in this page could not answer", said or "It stopped with an error.", False)
    if isinstance(exc, openai.APIStatusError):
        return _status_problem(exc, endpoint)
    if isinstance(exc, openai.APIError):  # an error event inside a stream
        return Problem("The endpoint reported an error", f"{host} stopped with an error; retry. {_server_says(exc.message)}", True)
    return Problem("Something went wrong", _server_says(f"{type(exc).__name__}: {exc}"), False)


def _status_problem(exc: openai.APIStatusError, endpoint: Endpoint) -> Problem:
    host, said = endpoint.host, _server_says(_message(exc))
    if isinstance(exc, openai.AuthenticationError):
        if not endpoint.api_key:
            return Problem("An API key is needed", f"{host} asks for an API key. Paste it in the settings. {said}", False)
        return Problem("Wrong API key", f"{host} did not accept the key. Check it in the settings (a key from one provider does not work at another). {said}", False)
    if isinstance(exc, openai.PermissionDeniedError):
        return Problem("Access denied", f"{host} refused this key for this request (the account may lack access to the model). {said}", False)
    if isinstance(exc, openai.NotFoundError):
        if _code(exc) == "model_not_found" or "model" in _message(exc).lower():
            return Problem("Model not found", f"{host} has no model `{endpoint.model}`. Press *Load models* and pick one from the list. {said}", False)
        return Problem("Not found", f"{host} has no such API path. Check the base URL (it usually ends in /v1). {said}", False)
    if isinstance(exc, openai.RateLimitError):
        if _code(exc) == "insufficient_quota":
            return Problem("Out of credit", f"{host} says the account's quota is used up. Check the plan and billing. {said}", False)
        return Problem("Rate limited", f"{host} is limiting requests and still was after retrying. Wait a minute, then retry. {said}", True)
    if exc.status_code >= 500:
        return Problem("The model server had an error", f"{host} answered {exc.status_code}. It may be overloaded; retry in a moment. {said}", True)
    return Problem(f"The endpoint answered {exc.status_code}", f"{host} rejected the request. {said}", False)


def _unreachable(endpoint: Endpoint) -> Problem:
    parts = urlsplit(endpoint.base_url)
    if parts.scheme not in ("http", "https"):
        return Problem("Check the base URL", f"`{endpoint.base_url}` must start with http:// or https://.", False)
    origin = page_origin()
    local = parts.hostname in LOCAL_HOSTS
    if origin and origin.startswith("https:") and parts.scheme == "http" and not local:
        return Problem(
            "The browser blocks plain http here",
            f"This page is served over https, so the browser refuses requests to http://{endpoint.host}. Use an https address for the endpoint.",
            False,
        )
    detail = f"Nothing answered at {endpoint.base_url}. Check the address and that the server is running."
    if local and origin and urlsplit(origin).hostname not in LOCAL_HOSTS:
        detail += " If the browser asked whether this page may use devices on your local network, allow it."
    return Problem("Cannot reach the endpoint", detail, True)


def _cors_advice(endpoint: Endpoint, origin: str | None) -> str:
    origin = origin or "this page's address"
    port = urlsplit(endpoint.base_url).port
    head = f"The server is running but does not allow requests from {origin}. "
    if port == 11434 or "ollama" in endpoint.base_url.lower():
        return head + f"For Ollama, set the environment variable OLLAMA_ORIGINS={origin} and restart Ollama."
    if port == 1234:
        return head + "For LM Studio, turn on CORS in the Developer tab's server settings (or run `lms server start --cors`)."
    return head + f"Allow the origin {origin} in the server's CORS settings (Access-Control-Allow-Origin)."


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(inner, str):
            return inner
    return ""


def _code(exc: openai.APIStatusError) -> str:
    body = exc.body
    inner = body.get("error", body) if isinstance(body, dict) else None
    return str(inner.get("code") or "") if isinstance(inner, dict) else ""


def _server_says(message: str) -> str:
    message = " ".join(message.split())
    if not message:
        return ""
    if len(message) > SERVER_SAYS_LIMIT:
        message = message[: SERVER_SAYS_LIMIT - 1] + "…"
    return f"(The server said: “{message}”)"
