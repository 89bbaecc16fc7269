"""Panel's chat messages without the copy icon that holds every message's page alive."""

from __future__ import annotations

from typing import ClassVar

import panel as pn


class Message(pn.chat.ChatMessage):
    """A chat message without Panel's copy icon (ChatCopyIcon, built hidden or not).

    The icon is a ReactiveHTML component. Panel 1.8 renders those with htm, whose template
    cache in Panel's bundle takes an entry for every view and never lets one go; each entry
    reaches the icon's view and, through its parents, the whole message's DOM. A long chat
    kept every message it ever drew in the page's heap (a heap snapshot after 28 turns: 2,348
    detached shadow roots, all retained through that cache).
    """

    def _build_layout(self) -> None:
        super()._build_layout()
        self._icons_row.remove(self.chat_copy_icon)


class Chat(pn.chat.ChatInterface):
    """Panel's chat interface, whose own messages (answers, placeholders) are Message too."""

    _message_type: ClassVar[type[pn.chat.ChatMessage]] = Message
