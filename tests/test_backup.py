"""A backup restores conversations and files, not trust, in CPython: a malformed backup is
refused whole before anything is written; its settings come back checked and are never
written by restoring; they change the app only when the person confirms them, and even
then the key stays with the origin it was typed for."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from typing import Any

import pytest

from localyst.store._backup import FORMAT, MAX_RECORD_TEXT, MAX_URL, VERSION, read_backup, restore
from localyst.store._store import LAST_PART

CONVERSATION = {
    "id": "0123456789abcdef0123456789abcdef",
    "title": "From the backup",
    "created": 1_700_000_000.0,
    "updated": 1_700_000_100.5,
    "transcript": json.dumps({"version": 1, "entries": [{"kind": "user", "text": "hi", "ended": None}]}),
    "history": json.dumps([{"role": "user", "content": "hi"}]),
}
SETTINGS = {
    "connection": {"base_url": "http://127.0.0.1:9/v1", "model": "other-model"},
    "behaviour": {"Confirm each cell before it runs": False, "Steps per turn": 7},
    "time_limit": 30,
}


def zip_of(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zipped(manifest: Any, files: dict[str, bytes] | None = None) -> bytes:
    """A backup file whose backup.json is ``manifest``, with ``files`` beside it."""
    return zip_of({"backup.json": json.dumps(manifest), **(files or {})})


def manifest(*conversations: Any, settings: Any = SETTINGS, **extra: Any) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "settings": settings, "conversations": list(conversations), **extra}


def with_fields(**fields: Any) -> dict[str, Any]:
    """The conversation with some fields replaced (a value of ... removes the field)."""
    record = {**CONVERSATION, **fields}
    return {key: value for key, value in record.items() if value is not ...}


def test_a_backup_is_read_with_its_conversations_settings_and_their_files() -> None:
    data = zipped(
        manifest(with_fields(unknown="dropped")),
        {f"files/{CONVERSATION['id']}/outputs/chart.png": b"png", "files/someone-else/x.csv": b"x", "stray.txt": b"s"},
    )
    found = read_backup(data)
    assert found.conversations == [CONVERSATION]  # only the fields the store keeps
    assert found.settings == SETTINGS
    assert [(c, p, found.archive.read(m)) for c, p, m in found.files] == [(CONVERSATION["id"], "outputs/chart.png", b"png")]


def test_a_new_conversation_that_was_never_answered_is_restored() -> None:
    found = read_backup(zipped(manifest(with_fields(transcript="", history="[]", created=...))))
    assert found.conversations[0]["transcript"] == "" and found.conversations[0]["created"] == CONVERSATION["updated"]


BROKEN = {
    "not a ZIP": (b"PK\x03\x04 not really", "not a Localyst backup"),
    "no backup.json": (zip_of({"other.json": "{}"}), "not a Localyst backup"),
    "backup.json is not JSON": (zip_of({"backup.json": "{nope"}), "not a Localyst backup"),
    "backup.json is a list": (zipped([1, 2]), "not a Localyst backup"),
    "another format": (zipped({**manifest(CONVERSATION), "format": "other"}), "not a Localyst backup"),
    "another version": (zipped({**manifest(CONVERSATION), "version": 2}), "version 2"),
    "no conversations": (zipped({"format": FORMAT, "version": VERSION}), "list of conversations is missing"),
    "a record that is not one": (zipped(manifest(CONVERSATION, "x")), "conversation 2 is not a record"),
    "no id": (zipped(manifest(with_fields(id=...))), "conversation 1 has no usable id"),
    "an id with a path in it": (zipped(manifest(with_fields(id="../x"))), "no usable id"),
    "an id too long": (zipped(manifest(with_fields(id="a" * 65))), "no usable id"),
    "a title that is not text": (zipped(manifest(with_fields(title=["<b>"]))), "conversation 1 has no title text"),
    "a title too long": (zipped(manifest(with_fields(title="t" * 201))), "title is longer than the 200 characters"),
    "a transcript too long": (zipped(manifest(with_fields(transcript="x" * (MAX_RECORD_TEXT + 1)))), "transcript is longer"),
    "a transcript that is not JSON": (zipped(manifest(with_fields(transcript="{nope"))), "transcript is not JSON"),
    "a transcript that is a list": (zipped(manifest(with_fields(transcript="[]"))), "transcript is not a transcript record"),
    "a history that is an object": (zipped(manifest(with_fields(history="{}"))), "history is not a list of messages"),
    "a history that is missing": (zipped(manifest(with_fields(history=...))), "no history text"),
    "an update time that is text": (zipped(manifest(with_fields(updated="yesterday"))), "no time it was changed"),
    "an update time that is a flag": (zipped(manifest(with_fields(updated=True))), "no time it was changed"),
    "an update time out of range": (zipped(manifest(with_fields(updated=1e300))), "no time it was changed"),
    "an update time that is not a number": (zipped(manifest(with_fields(updated=float("nan")))), "no time it was changed"),
    "the same id twice": (zipped(manifest(CONVERSATION, with_fields(title="again"))), "conversation 2 has the same id"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_malformed_backup_is_refused_whole_saying_what_is_wrong(name: str) -> None:
    data, says = BROKEN[name]
    with pytest.raises(ValueError, match=says.replace("(", r"\(")):
        read_backup(data)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("not settings", {}),
        ([SETTINGS], {}),
        ({"connection": "http://elsewhere/v1"}, {}),
        ({"connection": {"base_url": ["x"], "model": 5, "api_key": "sk-x"}}, {}),
        ({"connection": {"base_url": "h" * (MAX_URL + 1), "model": "m"}}, {"connection": {"model": "m"}}),
        ({"behaviour": {"a": [1], "b": {"x": 1}, "c": None, "d": "s" * 300, "e": True, "f": 3, "g": "fenced"}}, {"behaviour": {"e": True, "f": 3, "g": "fenced"}}),
        ({"time_limit": True}, {}),
        ({"time_limit": "30"}, {}),
        ({"time_limit": -1}, {}),
        ({"time_limit": 30, "theme": "dark", "api_key": "sk-x"}, {"time_limit": 30}),
    ],
)
def test_settings_of_another_shape_are_dropped(given: Any, kept: dict[str, Any]) -> None:
    assert read_backup(zipped(manifest(CONVERSATION, settings=given))).settings == kept


class RecordingStore:
    """A store whose database only records what would be written."""

    def __init__(self) -> None:
        self.writes: list[dict[str, Any]] = []
        self.db = self

    async def write(self, puts: dict[str, Any], ranges: dict[str, Any] | None = None) -> None:
        self.writes.append({**puts, "deleted ranges": ranges})


def test_restoring_writes_nothing_of_a_malformed_backup() -> None:
    store = RecordingStore()
    data = zipped(manifest(CONVERSATION, with_fields(id="fedcba9876543210", history="{}")))
    with pytest.raises(ValueError, match="conversation 2's history"):
        asyncio.run(restore(store, data))
    assert store.writes == []


def test_restoring_writes_conversations_but_never_the_settings() -> None:
    store = RecordingStore()
    conversations, settings = asyncio.run(restore(store, zipped(manifest(CONVERSATION))))
    # A conversation of the same id loses its stored parts: the restored one is whole.
    parts = ([CONVERSATION["id"], 0], [CONVERSATION["id"], LAST_PART])
    assert store.writes == [{"conversations": [CONVERSATION], "files": [], "deleted ranges": {"parts": [parts]}}]
    assert conversations == [CONVERSATION] and settings == SETTINGS


# ---------------------------------------------------------------- asking the person


KEY = "sk-test-RESTORE-1b2c"


@pytest.fixture
def app():
    pytest.importorskip("panel")
    from localyst.ui.app import LocalystApp

    app = LocalystApp("")
    app.settings.base_url.value = "http://127.0.0.1:8001/v1"
    app.settings.model.value = "mock-small"
    app.settings.api_key.value = KEY  # typed for the first origin
    return app


def test_only_what_differs_and_what_a_widget_takes_is_offered(app) -> None:
    from localyst.ui._restore import Change, proposed

    app.behaviour.confirm.value = True
    settings = {
        "connection": {"base_url": "http://127.0.0.1:9/v1", "model": "mock-small"},
        "behaviour": {
            "Confirm each cell before it runs": False,
            "Steps per turn": 5000,  # over the widget's end
            "How the model runs code": "something else",  # not one of its options
            "Failed runs in a row": "3",  # not its type
            "Not a setting": 1,
        },
        "time_limit": 30,
    }
    changed, changes = proposed(app, settings)
    assert changed == {
        "connection": {"base_url": "http://127.0.0.1:9/v1", "model": "mock-small"},
        "behaviour": {"confirm": False},  # kept by key, though the backup named it by its label
        "time_limit": 30,
    }
    assert changes == [
        Change("Base URL", "http://127.0.0.1:8001/v1", "http://127.0.0.1:9/v1"),
        Change("Confirm each cell before it runs", True, False),
        Change("Time limit per cell (seconds)", app.time_limit.value, 30),
    ]
    assert proposed(app, {"connection": {"base_url": "http://127.0.0.1:8001/v1", "model": "mock-small"}}) == ({}, [])


def test_a_link_s_endpoint_is_not_offered_to_be_replaced() -> None:
    pytest.importorskip("panel")
    from localyst.ui._restore import proposed
    from localyst.ui.app import LocalystApp

    app = LocalystApp("?base_url=http%3A%2F%2F127.0.0.1%3A8001%2Fv1&model=m1")
    assert proposed(app, {"connection": {"base_url": "http://127.0.0.1:9/v1", "model": "m2"}}) == ({}, [])


def test_the_question_shows_the_backup_s_values_as_text(app) -> None:
    from localyst.ui._restore import Change, SettingsQuestion

    hostile = "http://x/<img src=x onerror=alert(1)>"
    question = SettingsQuestion("<b>b.zip</b>", [Change("Base URL", "http://127.0.0.1:8001/v1", hostile)], lambda: None, lambda: None)
    shown = question.panel.objects[0].object
    assert "<img" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown and "&lt;b&gt;b.zip" in shown
    assert [b.name for b in question.panel.objects[1].objects] == ["Use the backup's settings", "Keep mine"]


def confirm(app, settings: dict[str, Any], button: str) -> list[dict[str, Any]]:
    """Offer ``settings`` as a restored backup's, press ``button``; what was saved."""
    from localyst.ui._restore import SettingsQuestion, proposed

    saved: list[dict[str, Any]] = []

    async def save_settings(given: dict[str, Any]) -> None:
        saved.append(given)

    async def run() -> None:
        keeper = app.keeper
        keeper.keeping.store, keeper.save_settings = object(), save_settings  # a store is open
        changed, changes = proposed(app, settings)
        keeper.list.ask(SettingsQuestion("b.zip", changes, lambda: keeper._use_settings(changed), keeper._keep_settings).panel)
        [use, keep] = keeper.list.question.objects[0].objects[1].objects
        (use if button == "use" else keep).clicks += 1
        await asyncio.sleep(0)  # the save is a task

    asyncio.run(run())
    app.keeper.keeping.store = None  # it was there for the save only
    assert app.keeper.list.question.objects == []
    return saved


def test_keep_mine_changes_nothing(app) -> None:
    saved = confirm(app, {"connection": {"base_url": "http://127.0.0.1:9/v1", "model": "x"}, "time_limit": 30}, "keep")
    assert saved == [] and app.settings.base_url.value == "http://127.0.0.1:8001/v1" and app.time_limit.value != 30
    assert "kept" in app.keeper.list.status.object


def test_using_the_backup_s_settings_applies_and_keeps_them_but_holds_the_key_back(app) -> None:
    assert app.settings.endpoint().api_key == KEY
    settings = {
        "connection": {"base_url": "http://127.0.0.1:9/v1", "model": "other-model"},
        "behaviour": {"Confirm each cell before it runs": True},
        "time_limit": 30,
    }
    saved = confirm(app, settings, "use")
    endpoint = app.settings.endpoint()
    assert (endpoint.base_url, endpoint.model, app.behaviour.confirm.value, app.time_limit.value) == (
        "http://127.0.0.1:9/v1", "other-model", True, 30
    )
    assert len(saved) == 1 and saved[0]["connection"] == settings["connection"] and saved[0]["time_limit"] == 30
    assert saved[0]["behaviour"]["confirm"] is True
    assert endpoint.api_key == "" and app.settings.key_prompt.visible  # the key waits for "Send the key there"
    app.settings.send_key.clicks += 1
    assert app.settings.endpoint().api_key == KEY
