"""RemoteKernel, the app's handle on the kernel worker, against a fake worker in CPython.

The fake speaks the kernel's side of the protocol (protocol/_kernel.py) and can be told to
ignore interrupts, never start a cell, or forge messages; the handle must give exactly one
restart per lost kernel, mount every file it should have again, and never wait forever.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from localyst.kernel.client._remote import RemoteKernel

OK = {"execution_count": 1, "outputs": [], "error": None, "duration": 0.01, "files": []}
INTERRUPTED = {**OK, "error": {"ename": "KeyboardInterrupt", "evalue": "", "traceback": "KeyboardInterrupt"}}


class FakeWorker:
    """One fake kernel worker. ``stubborn``: a running cell ignores interrupts."""

    def __init__(self, hear, stubborn: bool) -> None:
        self.hear = hear
        self.stubborn = stubborn
        self.interruptible = True
        self.posted: list[dict[str, Any]] = []
        self.closed = False
        self.running: int | None = None
        self.files: dict[str, Any] = {}
        asyncio.get_event_loop().call_soon(hear, {"type": "ready", "status": ""}, None)

    def post(self, message: dict[str, Any]) -> None:
        assert not self.closed, "a message to a worker that was closed"
        self.posted.append(message)
        kind = message["type"]
        if kind == "run":
            self.running = message["id"]
            self._say({"type": "started", "id": message["id"]})
            if "sleep" not in message["code"]:
                self._say({"type": "result", "id": message["id"], "result": OK})
                self.running = None
        elif kind == "put-file":
            self.files[message["path"]] = message.get("bytes", message.get("blob"))
            if "id" in message:
                self._say({"type": "file-put", "id": message["id"], "path": message["path"], "size": 1})
        elif kind == "list-files":
            self._say({"type": "files", "id": message["id"], "files": [{"path": p, "size": 1, "mtime": 0} for p in self.files]})

    def interrupt(self) -> None:
        if self.running is not None and not self.stubborn:
            self._say({"type": "result", "id": self.running, "result": INTERRUPTED})
            self.running = None

    def close(self) -> None:
        self.closed = True

    def _say(self, fields: dict[str, Any], payload: Any = None) -> None:
        asyncio.get_event_loop().call_soon(self.hear, fields, payload)


class Workers:
    """Makes the fake workers a RemoteKernel connects to, and keeps each of them."""

    def __init__(self, stubborn: bool = False) -> None:
        self.stubborn = stubborn
        self.made: list[FakeWorker] = []

    def __call__(self, script: str, hear) -> FakeWorker:
        worker = FakeWorker(hear, self.stubborn)
        self.made.append(worker)
        return worker


async def no_lock() -> list[str]:
    return ["numpy", "pandas"]


def kernel(workers: Workers, **options: Any) -> RemoteKernel:
    return RemoteKernel(connect=workers, read_packages=no_lock, **options)


def test_a_cell_runs_and_the_packages_come_from_the_sites_lock() -> None:
    async def go():
        k = kernel(workers := Workers())
        result = await k.run("print(1)")
        return k, workers, result

    k, workers, result = asyncio.run(go())
    assert result == OK and k.packages == ["numpy", "pandas"] and len(workers.made) == 1


def test_a_cell_past_its_time_limit_that_ignores_the_interrupt_gives_exactly_one_restart() -> None:
    """The time limit's own restart and the interrupt's watchdog both come due: one restart."""

    async def go():
        k = kernel(workers := Workers(stubborn=True), time_limit=0.05, grace=0.05)
        result = await asyncio.wait_for(k.run("sleep forever"), 5)
        await asyncio.sleep(0.2)  # the watchdog's moment has passed too
        after = await asyncio.wait_for(k.run("print(2)"), 5)
        return k, workers, result, after

    k, workers, result, after = asyncio.run(go())
    assert result["error"]["ename"] == "KernelRestarted" and "restarted" in result["error"]["evalue"]
    assert k.restarts == 1 and len(workers.made) == 2
    assert workers.made[0].closed and not workers.made[1].closed
    assert after == OK


def test_an_interrupt_that_lands_keeps_the_kernel() -> None:
    async def go():
        k = kernel(workers := Workers(), time_limit=0.05, grace=1.0)
        result = await asyncio.wait_for(k.run("sleep a while"), 5)
        return k, workers, result

    k, workers, result = asyncio.run(go())
    assert result["error"]["ename"] == "KeyboardInterrupt" and k.restarts == 0 and len(workers.made) == 1


def test_restarts_asked_for_together_are_one() -> None:
    async def go():
        k = kernel(workers := Workers())
        await k.ready()
        await asyncio.wait_for(asyncio.gather(k.restart("a"), k.restart("b"), k.restart("c")), 5)
        await k.restart("later")  # one asked for after that one ended is its own
        return k, workers

    k, workers = asyncio.run(go())
    assert k.restarts == 2 and len(workers.made) == 3


def test_every_file_the_kernel_should_have_is_mounted_again_after_a_restart() -> None:
    """The person's files, and the ones code wrote once they are kept in storage."""

    async def go():
        k = kernel(workers := Workers())
        await k.put_file("data.csv", b"a\n1\n")
        k.keep("outputs/result.csv", "a Blob from storage")
        k.keep("outputs/gone.csv", "another")
        k.keep("outputs/gone.csv", None)  # deleted since: not mounted again
        await k.restart("The kernel was restarted on request.")
        return await k.list_files(), workers

    listing, workers = asyncio.run(go())
    assert sorted(f["path"] for f in listing) == ["data.csv", "outputs/result.csv"]
    assert workers.made[1].files["outputs/result.csv"] == "a Blob from storage"


def test_a_forged_or_malformed_answer_fails_its_request_instead_of_hanging() -> None:
    async def go():
        k = kernel(workers := Workers())
        await k.ready()
        worker = workers.made[0]
        original = worker.post

        def forge(message):
            if message["type"] == "list-files":
                worker._say({"type": "files", "id": message["id"], "files": [{"path": "<b>", "size": "<b>", "mtime": 0}]})
            else:
                original(message)

        worker.post = forge
        with pytest.raises(FileNotFoundError, match="could not be read"):
            await asyncio.wait_for(k.list_files(), 5)
        worker._say({"type": "render", "docs_json": "{}"})
        worker._say({"type": "status", "text": 5})
        await asyncio.sleep(0.01)
        return k

    k = asyncio.run(go())
    assert k.dropped == 3


def test_a_crashed_worker_is_replaced_once() -> None:
    async def go():
        k = kernel(workers := Workers())
        await k.ready()
        workers.made[0].hear(None, "out of memory")
        workers.made[0].hear(None, "out of memory")  # a second error event of the same death
        await asyncio.sleep(0.05)
        await k.ready()
        return k, workers

    k, workers = asyncio.run(go())
    assert k.restarts == 1 and len(workers.made) == 2


def test_a_file_request_the_kernel_could_not_handle_fails_instead_of_waiting() -> None:
    async def go():
        k = kernel(workers := Workers())
        await k.ready()
        worker = workers.made[0]
        worker.post = lambda message: worker._say({"type": "error", "id": message["id"], "message": "scan failed"})
        with pytest.raises(FileNotFoundError, match="scan failed"):
            await asyncio.wait_for(k.scan_files({"max_files": 5}), 5)
        return k

    assert asyncio.run(go()).restarts == 0
