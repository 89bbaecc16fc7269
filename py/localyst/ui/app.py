"""The Localyst page: connection settings beside a streaming chat."""

from __future__ import annotations

from typing import Any, AsyncIterator

import panel as pn

from ..llm import StreamCut, TextDelta, describe, make_client, stream_chat
from ._settings import SettingsPanel
from ._styles import APP_CSS, HEADER_CSS

ASSISTANT = "Assistant"
USER = "You"
NOTICE = "Localyst"
WELCOME = (
    "**Welcome to Localyst.** Choose an endpoint and a model on the left, then ask away. "
    "Messages go only to the endpoint you choose; nothing else leaves this tab."
)
INCOMPLETE_NOTE = (
    "\n\n---\n*⚠ Incomplete: the connection closed before the answer finished. "
    "Press **Rerun** to ask again.*"
)


class LocalystApp:
    """Owns the widgets of one page and turns chat turns into model requests."""

    def __init__(self, search: str = "") -> None:
        self.settings = SettingsPanel(search)
        self._not_history: set[int] = set()
        self.chat = pn.chat.ChatInterface(
            callback=self._respond,
            callback_user=ASSISTANT,
            callback_avatar="A",
            user=USER,
            avatar="Y",
            callback_exception="summary",
            placeholder_text="Thinking…",
            show_rerun=True,
            show_undo=True,
            show_clear=True,
            sizing_mode="stretch_both",
            widgets=pn.chat.ChatAreaInput(
                placeholder="Ask about your data… (Enter to send, Shift+Enter for a new line)"
            ),
            message_params={"show_reaction_icons": False, "show_copy_icon": True},
            css_classes=["localyst-chat"],
        )
        self.chat.send(WELCOME, user=NOTICE, avatar="L", respond=False)

    def history(self) -> list[dict[str, str]]:
        """The conversation as chat-completion messages, leaving out notices and cut answers."""
        messages: list[dict[str, str]] = []
        for message in self.chat.objects:
            if id(message) in self._not_history or message.user == NOTICE:
                continue
            role = "assistant" if message.user == ASSISTANT else "user"
            text = message.object if isinstance(message.object, str) else str(message.object)
            if text.strip():
                messages.append({"role": role, "content": text})
        return messages

    async def _respond(self, contents: Any, user: str, instance: pn.chat.ChatInterface) -> AsyncIterator[Any]:
        endpoint = self.settings.endpoint()
        problem = self.settings.missing(endpoint)
        if problem:
            yield {"user": NOTICE, "avatar": "L", "object": problem}
            return
        messages = self.history()
        text = ""
        try:
            client = make_client(endpoint)
            async for event in stream_chat(client, endpoint.model, messages):
                if isinstance(event, TextDelta):
                    text += event.text
                    yield text
        except StreamCut as cut:
            self._mark_not_history(instance)
            yield (cut.partial or text) + INCOMPLETE_NOTE
        except Exception as exc:  # every failure becomes a message the person can act on
            found = describe(exc, endpoint)
            notice = f"**{found.title}**\n\n{found.detail}"
            if text:
                self._mark_not_history(instance)
                yield text + "\n\n---\n" + notice
            else:
                yield {"user": NOTICE, "avatar": "L", "object": notice}

    def _mark_not_history(self, instance: pn.chat.ChatInterface) -> None:
        if instance.objects:
            self._not_history.add(id(instance.objects[-1]))

    def view(self) -> pn.viewable.Viewable:
        header = pn.pane.HTML(
            '<div class="ly-header"><img src="icon.svg" alt="" width="28" height="28">'
            "<span class='ly-title'>Localyst</span>"
            "<span class='ly-sub'>private code interpreter · your files never leave this tab</span></div>",
            sizing_mode="stretch_width",
            margin=0,
            stylesheets=[HEADER_CSS],
        )
        body = pn.Row(
            self.settings.view(),
            pn.Column(self.chat, sizing_mode="stretch_both", css_classes=["ly-main"]),
            sizing_mode="stretch_both",
            css_classes=["ly-body"],
        )
        return pn.Column(header, body, sizing_mode="stretch_both", css_classes=["ly-page"], stylesheets=[APP_CSS])


def build_app(search: str = "") -> pn.viewable.Viewable:
    """The whole page for one visit; ``search`` is the page's query string."""
    pn.extension(notifications=False)
    return LocalystApp(search).view()

