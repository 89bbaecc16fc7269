"""The conversation without Panel (session/): the real agent, the mock model over HTTP on
127.0.0.1, and the real kernel in this process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from localyst.agent import Agent
from localyst.kernel import Kernel
from localyst.llm import Endpoint
from localyst.session import Conversation
from localyst.session._conversation import RESTARTED_NOTE
from tests.test_agent import ThreadKernel
from tools.mock_model import MockModel, fault, text, tool_call


class SessionKernel(ThreadKernel):
    """The in-process kernel, with what a conversation reads of RemoteKernel."""

    def __init__(self, kernel: Kernel) -> None:
        super().__init__(kernel)
        self.restarts = 0
        self.packages = ["numpy", "pandas"]
        self.online = False


@pytest.fixture
def kernel(tmp_path: Path) -> SessionKernel:
    (tmp_path / "sales.csv").write_text("region,amount\nnorth,120\nsouth,80\n")
    return SessionKernel(Kernel(tmp_path))


def answer(conversation: Conversation, mock: MockModel, question: str) -> list[Any]:
    events: list[Any] = []
    conversation.ask(question)
    agent = Agent(Endpoint(mock.base_url, model="mock-small"), conversation.kernel)
    asyncio.run(conversation.run_turn(agent, events.append))
    return events


def test_a_turn_records_what_ran_and_the_history_holds_the_wire_format(kernel: SessionKernel) -> None:
    conversation = Conversation(kernel)
    with MockModel() as mock:
        mock.script(tool_call("run_python", json.dumps({"code": "print(6 * 7)"})), text("It is 42."))
        answer(conversation, mock, "What is six times seven?")
    kinds = [e["kind"] for e in conversation.transcript.entries]
    assert kinds == ["user", "code", "assistant"]
    roles = [m["role"] for m in conversation.history]
    assert roles == ["user", "assistant", "tool", "assistant"] and conversation.history[2]["content"] == "42"


def test_the_files_are_scanned_once_after_they_change_and_reach_the_prompt(kernel: SessionKernel) -> None:
    conversation = Conversation(kernel)
    conversation.files_changed = True
    assert asyncio.run(conversation.look_at_files()) is None
    assert [f.path for f in conversation.files] == ["sales.csv"] and not conversation.files_changed
    with MockModel() as mock:
        mock.script(text("One file."))
        answer(conversation, mock, "What do I have?")
        prompt = mock.chat_requests()[0].body["messages"][0]["content"]
    assert "sales.csv" in prompt and "2 rows × 2 columns" in prompt


def test_the_model_is_told_once_when_the_kernel_lost_its_variables(kernel: SessionKernel) -> None:
    conversation = Conversation(kernel)
    conversation.ask("hi")
    kernel.restarts = 1
    conversation.ask("again")
    conversation.ask("third")
    said = [m["content"] for m in conversation.history]
    assert said == ["hi", f"{RESTARTED_NOTE}\n\nagain", "third"]
    assert [e["text"] for e in conversation.transcript.entries] == ["hi", "again", "third"]  # the record keeps their words
    brought_back = Conversation(kernel, conversation.transcript, list(conversation.history))
    brought_back.ask("after a reload")
    assert brought_back.history[-1]["content"].startswith(RESTARTED_NOTE)  # a fresh kernel: variables gone
    new = Conversation(kernel)
    kernel.restarts = 2  # the fresh kernel a new conversation comes with
    new.ask("first")
    assert new.history == [{"role": "user", "content": "first"}], "a model that heard nothing was told of a restart"


def test_a_retry_forgets_the_failed_answer_and_asks_again(kernel: SessionKernel) -> None:
    conversation = Conversation(kernel)
    with MockModel() as mock:
        mock.script(fault(500), fault(500), fault(500), fault(500))
        answer(conversation, mock, "hello?")
        conversation.history.append({"role": "assistant", "content": "half an answer"})
        conversation.forget_failed_answer()
        assert conversation.history == [{"role": "user", "content": "hello?"}]
        mock.script(text("Hello."))
        asyncio.run(conversation.run_turn(Agent(Endpoint(mock.base_url, model="mock-small"), kernel), lambda e: None))
    assert conversation.history[-1] == {"role": "assistant", "content": "Hello."}


def test_an_edited_run_is_recorded_and_told_in_a_block_its_code_cannot_close(kernel: SessionKernel) -> None:
    conversation = Conversation(kernel)
    code = 'note = """\n```\nnot the end\n```\n"""\nprint(len(note))'
    result = asyncio.run(kernel.run(code))
    conversation.edited_run(code, result)
    told = conversation.history[-1]["content"]
    assert told.startswith("(I edited and ran this code myself:)\n````python\n") and told.endswith("\n21")
    (entry,) = conversation.transcript.entries
    assert entry["source"] == "edited" and entry["code"] == code
    assert conversation.replayable_code() == [code]


def test_a_turn_changes_only_the_last_part_and_the_parts_make_the_conversation_again(kernel: SessionKernel) -> None:
    conversation = Conversation(kernel)
    with MockModel() as mock:
        mock.script(tool_call("run_python", json.dumps({"code": "x = 6"})), text("Set."))
        answer(conversation, mock, "Set x.")
        before = conversation.parts()
        mock.script(tool_call("run_python", json.dumps({"code": "print(x * 7)"})), text("It is 42."))
        answer(conversation, mock, "Times seven?")
    conversation.edited_run("print(x)", {"execution_count": 3, "outputs": [], "error": None, "duration": 0.0, "files": []})
    after = conversation.parts()
    assert len(before) == 1 and len(after) == 2
    assert after[0] == before[0], "an earlier turn's part changed: a save would have to write it again"
    assert "Times seven?" in after[1].transcript and "Set x." not in after[1].transcript
    assert conversation.parts(1) == after[1:]
    again = Conversation.from_parts(kernel, after)
    assert again.transcript.entries == conversation.transcript.entries and again.history == conversation.history
    assert again.parts() == after, "a conversation brought back splits where it was stored"


def test_a_part_that_is_not_a_list_of_messages_is_refused(kernel: SessionKernel) -> None:
    from localyst.store import Part

    with pytest.raises(ValueError, match="no list of messages"):
        Conversation.from_parts(kernel, [Part("", '{"role": "user"}')])


def test_a_turn_waits_for_python_and_a_file_problem_is_recorded_before_the_model_is_asked(kernel: SessionKernel) -> None:
    from localyst.agent import Notice
    from localyst.session import Waiting

    readied = []

    async def ready() -> None:
        readied.append(True)
        kernel.packages = ["numpy", "pandas"]

    async def scan_fails(limits):
        raise RuntimeError("the scan ran out of time")

    kernel.packages = []  # Python not up yet
    kernel.ready = ready
    kernel.scan_files = scan_fails
    conversation = Conversation(kernel)
    conversation.files_changed = True
    with MockModel() as mock:
        mock.script(text("Hi."))
        events = answer(conversation, mock, "hello?")
    assert readied == [True] and events[:2] == [Waiting("starting Python…"), Waiting("looking at your files…")]
    problem = "The files could not be previewed for the model: the scan ran out of time"
    assert events[2] == Notice(problem)
    assert {"kind": "notice", "text": problem, "reason": None} in conversation.transcript.entries
    assert mock.chat_requests(), "the model was not asked after the problem"


class MemoryStore:
    """The store's conversation calls over dicts: what session.Keeping needs of IndexedDB."""

    def __init__(self) -> None:
        self.records: dict[str, dict] = {}
        self.stored_parts: dict[tuple[str, int], Any] = {}
        self.writes: list[list[int]] = []

    async def save_conversation(self, record, parts=None) -> None:
        self.records[record["id"]] = dict(record)
        for index, part in (parts or {}).items():
            self.stored_parts[(record["id"], index)] = part
        count = record.get("parts") or 0
        self.stored_parts = {k: v for k, v in self.stored_parts.items() if k[0] != record["id"] or k[1] < count}
        self.writes.append(sorted(parts or {}))

    async def parts(self, record):
        from localyst.store import Part

        if record.get("parts") is None:
            return [Part(record.get("transcript") or "", record.get("history") or "[]")]
        return [self.stored_parts[(record["id"], i)] for i in range(record["parts"])]

    async def delete_conversation(self, conversation) -> None:
        del self.records[conversation]


def test_keeping_writes_what_changed_and_reads_back_what_it_wrote(kernel: SessionKernel) -> None:
    from localyst.session import Keeping

    keeping = Keeping()
    keeping.store = store = MemoryStore()
    conversation = Conversation(kernel)
    with MockModel() as mock:
        for number in (1, 2, 3):
            mock.script(text(f"Answer {number}."))
            answer(conversation, mock, f"Question {number}?")
            assert asyncio.run(keeping.save(conversation))
    assert not asyncio.run(keeping.save(conversation)), "an unchanged conversation was written again"
    assert store.writes == [[0], [0, 1], [1, 2]]
    record = keeping.record
    assert record["title"] == "Question 1?" and record["parts"] == 3 and keeping.records[0] == record
    again = asyncio.run(keeping.read(record["id"], kernel))
    assert again.transcript.entries == conversation.transcript.entries and again.history == conversation.history
    asyncio.run(keeping.rename(record["id"], "  Sales   by region "))
    assert asyncio.run(keeping.save(again)) and store.records[record["id"]]["title"] == "Sales by region"
    assert asyncio.run(keeping.delete(record["id"])) and keeping.records == [] and store.records == {}


def test_keeping_reads_a_record_of_the_inline_kind_and_writes_it_in_parts(kernel: SessionKernel) -> None:
    from localyst.session import Keeping
    from localyst.transcript import Transcript

    transcript = Transcript()
    transcript.add_user("Old question?")
    inline = {"id": "old", "title": "Old", "created": 1.0, "updated": 2.0, "transcript": transcript.to_json(), "history": '[{"role": "user", "content": "Old question?"}]'}
    keeping = Keeping()
    keeping.store = store = MemoryStore()
    keeping.records = [inline]
    session = asyncio.run(keeping.read("old", kernel))
    keeping.show("old", session)
    assert [e["text"] for e in session.transcript.entries] == ["Old question?"]
    assert asyncio.run(keeping.save(session)), "the inline record was not written in parts"
    assert "transcript" not in store.records["old"] and store.records["old"]["parts"] == 1
    assert asyncio.run(keeping.read("old", kernel)).history == session.history
