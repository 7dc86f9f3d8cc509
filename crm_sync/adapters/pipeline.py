"""Validation beside the fetching: a worker process checks page k while this process fetches page k+1
and the pull writes page k-1 (marshmallow costs more CPU than anything else in a full pull).

The worker is `python -m crm_sync.adapters.pipeline module:function`, fed pickled pages over its stdin
and answering over its stdout (a plain subprocess: unlike multiprocessing's spawn it never re-imports
the caller's main module). Only pages this process fetched itself cross the pipe.
"""

from __future__ import annotations

import importlib
import logging
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeVar

log = logging.getLogger(__name__)
Raw = TypeVar("Raw")
Checked = TypeVar("Checked")
_HEADER = struct.Struct("!Q")


@dataclass(frozen=True)
class _Failure:
    """The worker's answer when `check` raised."""

    text: str


def _write(stream: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(header)[0]
    return pickle.loads(stream.read(size))  # noqa: S301 - frames from our own child process


class _Worker:
    """One child process running `check` on each page sent to it, answering in order."""

    def __init__(self, check: Callable[[Any], Any]) -> None:
        target = f"{check.__module__}:{check.__qualname__}"
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "crm_sync.adapters.pipeline", target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.answers: queue.Queue[Any] = queue.Queue()
        self.reader = threading.Thread(target=self._collect, name="validation-worker-reader", daemon=True)
        self.reader.start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                self.answers.put(_read(self.process.stdout))
        except (EOFError, OSError, pickle.UnpicklingError):
            self.answers.put(_Failure("the validation worker stopped"))

    def submit(self, page: object) -> None:
        assert self.process.stdin is not None
        try:
            _write(self.process.stdin, page)
        except OSError:  # it died; its stderr says why
            raise RuntimeError(f"the validation worker stopped (exit {self.process.poll()})") from None

    def result(self) -> Any:
        answer = self.answers.get()
        if isinstance(answer, _Failure):
            raise RuntimeError(f"validation worker: {answer.text}")
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


_DONE = object()


def prefetched(pages: Iterator[Raw], *, depth: int = 2) -> Iterator[Raw]:
    """Pull `pages` in a background thread, `depth` ahead: the HTTP waits overlap with our own work."""
    buffer: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        buffer.put(page, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as error:  # handed to the consumer, which raises it
            buffer.put(error)

    producer = threading.Thread(target=produce, name="crm-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join(timeout=30)


def in_worker(pages: Iterator[Raw], check: Callable[[Raw], Checked], *, ahead: int = 2) -> Iterator[Checked]:
    """`check(page)` for every page, in order; from the second page on in a worker process (`check`
    must be a module-level function, pages picklable), while a thread fetches the next pages. A
    one-page stream starts neither."""
    first = next(pages, None)
    if first is None:
        return
    second = next(pages, None)
    if second is None:
        yield check(first)
        return
    pages = prefetched(pages)
    try:
        worker = _Worker(check)
    except OSError as error:  # no processes allowed here: do the work in line
        log.warning("validation worker unavailable (%s); validating in this process", error)
        yield check(first)
        yield check(second)
        yield from (check(page) for page in pages)
        return
    try:
        worker.submit(second)
        in_flight = deque([None])
        yield check(first)  # while the worker starts and checks the second page
        for page in pages:
            worker.submit(page)
            in_flight.append(None)
            if len(in_flight) > ahead:
                in_flight.popleft()
                yield worker.result()
        while in_flight:
            in_flight.popleft()
            yield worker.result()
    finally:
        worker.close()


def main(arguments: list[str]) -> None:
    """The worker's loop: read a page, check it, write the answer, until stdin closes."""
    module, _, name = arguments[0].partition(":")
    check = getattr(importlib.import_module(module), name)
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            page = _read(source)
        except EOFError:
            return
        try:
            answer = check(page)
        except Exception:
            answer = _Failure(traceback.format_exc(limit=5))
        _write(sink, answer)


if __name__ == "__main__":
    main(sys.argv[1:])
