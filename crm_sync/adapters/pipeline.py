"""Reading beside the writing: a worker process fetches, decodes and validates pages while this process
writes the ones before (marshmallow costs more CPU than anything else in a full pull).

The worker is `python -m crm_sync.adapters.pipeline module:function`, a plain subprocess (unlike
multiprocessing's spawn it never re-imports the caller's main module) speaking pickled frames over its
stdin and stdout: `produced_in_worker(produce, spec)` has the worker run the generator `produce(spec)`
and stream what it yields; this process only reads the results. A full pull reads this way, so the
writing process spends no time (and no GIL) on HTTP, JSON or validation.

Only frames from our own child process are unpickled.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeVar

log = logging.getLogger(__name__)
Raw = TypeVar("Raw")
Checked = TypeVar("Checked")
_HEADER = struct.Struct("!Q")


@dataclass(frozen=True)
class _Failure:
    """What the reader reports when the worker stopped, or the worker's answer when the exception
    `produce` raised does not pickle."""

    text: str


def _write(stream: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> bytes:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(header)[0]
    frame = stream.read(size)
    if len(frame) < size:
        raise EOFError
    return frame


def _read(stream: IO[bytes]) -> Any:
    return pickle.loads(_read_frame(stream))  # noqa: S301 - frames from our own child or parent


@dataclass(frozen=True)
class _Raised:
    """The worker's answer when `produce` raised an exception that pickles: raised again here."""

    error: BaseException


@dataclass(frozen=True)
class _Produce:
    """The first frame to a producing worker: the argument of its generator."""

    spec: object


class _End:
    """The producing worker's last frame."""


class _Worker:
    """One child process running the producing generator `function`."""

    def __init__(self, function: Callable[..., Any], *, buffered: int) -> None:
        target = f"{function.__module__}:{function.__qualname__}"
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "crm_sync.adapters.pipeline", target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        # A producing worker is held back by this bound (and the pipe) so it never runs far ahead.
        self.answers: queue.Queue[Any] = queue.Queue(maxsize=buffered)
        self.reader = threading.Thread(target=self._collect, name="validation-worker-reader", daemon=True)
        self.reader.start()

    def _collect(self) -> None:
        # Only reads (which release the GIL): unpickling here would hold the GIL for milliseconds at a
        # time, and the consumer's database driver, which releases it for every row, would queue behind.
        assert self.process.stdout is not None
        try:
            while True:
                self.answers.put(_read_frame(self.process.stdout))
        except (EOFError, OSError):
            self.answers.put(_Failure("the validation worker stopped"))

    def submit(self, page: object) -> None:
        assert self.process.stdin is not None
        try:
            _write(self.process.stdin, page)
        except OSError:  # it died; its stderr says why
            raise RuntimeError(f"the validation worker stopped (exit {self.process.poll()})") from None

    def result(self) -> Any:
        answer = self.answers.get()
        if isinstance(answer, bytes):
            answer = pickle.loads(answer)  # noqa: S301 - a frame from our own child process
        if isinstance(answer, _Failure):
            raise RuntimeError(f"validation worker: {answer.text}")
        if isinstance(answer, _Raised):
            raise answer.error
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):  # it is gone already
                self.process.stdin.close()
        self.process.terminate()  # it may still be writing: stop it, let the reader finish
        while self.reader.is_alive():
            with contextlib.suppress(queue.Empty):
                self.answers.get(timeout=0.1)
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


def produced_in_worker(
    produce: Callable[[Any], Iterator[Checked]], spec: object, *, ahead: int = 2
) -> Iterator[Checked]:
    """What the generator `produce(spec)` yields, produced in a worker process at most `ahead` items
    before the consumer (`produce` a module-level function, `spec` and the items picklable). An
    exception in the worker is raised here (as itself when it pickles, else as a RuntimeError); when
    no process can be started, `produce` runs in this process."""
    try:
        worker = _Worker(produce, buffered=ahead)
    except OSError as error:
        log.warning("reading worker unavailable (%s); reading in this process", error)
        yield from produce(spec)
        return
    try:
        worker.submit(_Produce(spec))
        while not isinstance(item := worker.result(), _End):
            yield item
    finally:
        worker.close()


def _produce(produce: Callable[[Any], Iterator[Any]], spec: object, sink: IO[bytes]) -> None:
    try:
        for item in produce(spec):
            _write(sink, item)
        _write(sink, _End())
    except BrokenPipeError:  # the consumer stopped reading: nothing left to do
        return
    except Exception as error:
        try:
            pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, checked to round-trip
            answer: object = _Raised(error)
        except Exception:
            answer = _Failure(traceback.format_exc(limit=5))
        _write(sink, answer)


def main(arguments: list[str]) -> None:
    """The worker: read the producer's argument, then stream what the producer yields."""
    module, _, name = arguments[0].partition(":")
    produce = getattr(importlib.import_module(module), name)
    try:
        first = _read(sys.stdin.buffer)
    except EOFError:
        return
    if isinstance(first, _Produce):
        _produce(produce, first.spec, sys.stdout.buffer)


if __name__ == "__main__":
    # Through the module's own name, so the frames' classes are `crm_sync.adapters.pipeline.*` on both
    # sides of the pipe (not `__main__.*`, which the parent process cannot unpickle).
    importlib.import_module("crm_sync.adapters.pipeline").main(sys.argv[1:])
