"""The chat's virtualised feed, told exactly which messages the page shows."""

from __future__ import annotations

from typing import Any

from panel.layout import Feed


def map_what_the_page_shows(feed: Feed) -> None:
    """Make ``feed`` find the messages the page reports on screen by their models.

    The page reports the models it shows. Panel 1.8's Feed turns them into indexes by
    adding the start of the range it would draw now, not of the one it drew. These differ
    after each scroll to the latest (drawn with a buffer of one, then the buffer is put
    back): the report lands on earlier messages, and with a small buffer the newest
    question and answer were at times never drawn.
    """
    own = feed._process_property_change

    def process(msg: dict[str, Any]) -> dict[str, Any]:
        if "visible_children" in msg:
            shown = set(msg.pop("visible_children") or ())
            indexes = [
                index
                for index, message in enumerate(feed.objects)
                if any(model.ref["id"] in shown for model, _ in message._models.values())
            ]
            if indexes:
                first, last = indexes[0], indexes[-1]
                # One message on screen: as Panel does, a range the size of the buffer
                # above it, so that the feed does not draw again on each report.
                msg["visible_range"] = (max(last - feed.load_buffer, 0) if first == last else first, last)
        return own(msg)

    feed._process_property_change = process
