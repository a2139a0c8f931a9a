"""The Python half of wsgo's worker channel: runs one WSGI app for a Go server.

wsgo's Go side starts this file as a worker process with one argument, a JSON
object (see workerConfig in python/worker.go), and passes it Unix sockets:
a control socket, which says hello, then ready (or why the app cannot load),
and whose end tells the worker to exit; and one request channel a thread,
on which requests arrive one at a time. Every frame is a 4-byte big-endian
payload length, a 1-byte kind and the payload; docs/python.md specifies
them. The Go side holds the other half of the protocol, in the same package:
change both together and bump PROTOCOL_VERSION.

Standard library only; Python 3.9 or newer.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import sysconfig
import threading
import traceback
import types
from typing import Any, Callable, Iterable, NoReturn, Optional

PROTOCOL_VERSION = 1

HEADER = struct.Struct(">IB")
MAX_FRAME = 16 << 20  # the largest payload either side sends
INPUT_BLOCK = 1 << 20  # the most wsgi.input asks of Go at once
LINE_BLOCK = 8 << 10  # what readline asks for at a time

# Frames from Go.
REQUEST = ord("R")  # an environ's string keys: key NUL value NUL ...
INPUT = ord("I")  # request body bytes; more may follow
INPUT_END = ord("J")  # the last request body bytes (possibly none)
INPUT_ERROR = ord("K")  # reading the body failed: the message
STOP = ord("Q")  # the client is gone: stop iterating, close the body

# Frames to Go.
HELLO = ord("h")  # the protocol version, 2 bytes
READY = ord("y")  # the app is loaded: JSON about it
LOAD_ERROR = ord("l")  # the app cannot be loaded: JSON, why
START = ord("s")  # start_response: flag byte, then NUL-separated fields
CHUNK = ord("c")  # body bytes
WRITE = ord("w")  # bytes given to write()
READ = ord("r")  # wsgi.input wants up to N bytes: 4 bytes
ERRORS = ord("e")  # text written to wsgi.errors, UTF-8
DONE = ord("d")  # the response is complete and close() was called
EXCEPTION = ord("x")  # the app raised: JSON, the exception

WORKER_FILE = os.path.abspath(__file__)

CLIENT_GONE = "the client went away before the response was complete"


class ChannelClosed(Exception):
    """The Go side closed a channel: wsgo is stopping this worker."""


class StopRequested(Exception):
    """Go asked to stop the current response: its client is gone."""


# The channel ------------------------------------------------------------


def frame(kind: int, payload: bytes = b"") -> bytes:
    """Returns one encoded frame."""
    return HEADER.pack(len(payload), kind) + payload


def frames_of(kind: int, data: bytes) -> list[bytes]:
    """Returns data as frames of kind, split where it exceeds MAX_FRAME."""
    if len(data) <= MAX_FRAME:
        return [frame(kind, data)]
    view = memoryview(data)
    return [frame(kind, bytes(view[i:i + MAX_FRAME]))
            for i in range(0, len(data), MAX_FRAME)]


class Channel:
    """One end of a socket pair with the Go side, read through a buffer."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.poller = select.poll()
        self.poller.register(sock.fileno(), select.POLLIN)
        self.stop_seen = False
        # A thread the app started may write to wsgi.errors while the
        # request's thread sends its body: frames must not interleave.
        self.send_lock = threading.Lock()

    def send(self, data: bytes) -> None:
        """Sends encoded frames, in one system call when it can."""
        with self.send_lock:
            self.sock.sendall(data)

    def send_frames(self, frames: list[bytes]) -> None:
        """Sends a list of encoded frames together."""
        if len(frames) == 1:
            self.send(frames[0])
        elif frames:
            self.send(b"".join(frames))

    def receive(self) -> tuple[int, bytes]:
        """Returns the next frame's kind and payload; ChannelClosed at the end."""
        self.fill(HEADER.size)
        length, kind = HEADER.unpack_from(self.buffer)
        if length > MAX_FRAME:
            fail_protocol(f"a frame of {length} bytes is larger than {MAX_FRAME}")
        end = HEADER.size + length
        self.fill(end)
        payload = bytes(self.buffer[HEADER.size:end])
        del self.buffer[:end]
        return kind, payload

    def fill(self, size: int) -> None:
        """Reads until the buffer holds at least size bytes."""
        while len(self.buffer) < size:
            data = self.sock.recv(max(size - len(self.buffer), 64 << 10))
            if not data:
                raise ChannelClosed()
            self.buffer += data

    def stop_requested(self) -> bool:
        """Reports, without waiting, whether Go asked to stop the response."""
        if self.stop_seen:
            return True
        if not self.buffer and not self.poller.poll(0):
            return False
        kind, _ = self.receive()
        if kind != STOP:
            fail_protocol(f"frame {kind!r} arrived while the app was producing its body")
        self.stop_seen = True
        return True

    def request_input(self, size: int) -> tuple[bytes, bool]:
        """Asks Go for up to size body bytes; returns them and whether the body ended."""
        self.send(frame(READ, struct.pack(">I", size)))
        while True:
            kind, payload = self.receive()
            if kind == INPUT:
                return payload, False
            if kind == INPUT_END:
                return payload, True
            if kind == INPUT_ERROR:
                raise OSError(payload.decode("utf-8", "replace"))
            if kind == STOP:
                self.stop_seen = True
                continue
            fail_protocol(f"frame {kind!r} arrived in answer to a read of wsgi.input")


def fail_protocol(problem: str) -> NoReturn:
    """Ends the worker: the two sides no longer understand each other."""
    print(f"wsgo python worker: protocol error: {problem}", file=sys.stderr)
    os._exit(70)


# wsgi.input, wsgi.errors, wsgi.file_wrapper -----------------------------


class Input:
    """wsgi.input: reads the request body from Go as the app asks for it."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.buffer = b""
        self.ended = False

    def fetch(self, size: int) -> bytes:
        if self.ended:
            return b""
        data, self.ended = self.channel.request_input(min(size, INPUT_BLOCK))
        return data

    def take(self, size: int) -> bytes:
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read(self, size: Optional[int] = -1) -> bytes:
        if size is None or size < 0:
            parts = [self.take(len(self.buffer))]
            while not self.ended:
                parts.append(self.fetch(INPUT_BLOCK))
            return b"".join(parts)
        while len(self.buffer) < size and not self.ended:
            self.buffer += self.fetch(size - len(self.buffer))
        return self.take(size)

    def readline(self, size: Optional[int] = -1) -> bytes:
        limit = sys.maxsize if size is None or size < 0 else size
        while True:
            end = self.buffer.find(b"\n", 0, limit) + 1
            if end:
                return self.take(end)
            if len(self.buffer) >= limit or self.ended:
                return self.take(limit)
            self.buffer += self.fetch(LINE_BLOCK)

    def readlines(self, hint: Optional[int] = -1) -> list[bytes]:
        lines, total = [], 0
        for line in self:
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> "Input":
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class Errors:
    """wsgi.errors: text for the Go server's log, sent a line at a time."""

    def __init__(self, channel: Channel) -> None:
        self.channel: Optional[Channel] = channel
        self.parts: list[str] = []
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"wsgi.errors takes str, not {type(text).__name__}")
        if self.channel is None:
            return sys.stderr.write(text)
        with self.lock:
            self.parts.append(text)
        if "\n" in text:
            self.flush()
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with self.lock:
            text = "".join(self.parts)
            self.parts.clear()
        channel = self.channel
        if not text:
            return
        if channel is None:
            sys.stderr.write(text)
            return
        for part in frames_of(ERRORS, text.encode("utf-8", "backslashreplace")):
            channel.send(part)

    def close(self) -> None:
        """Sends what is left; what a thread of the app writes later, once the
        channel may serve another request, goes to the worker's stderr."""
        self.flush()
        self.channel = None


class FileWrapper:
    """wsgi.file_wrapper: a file-like object as a body of blocks."""

    def __init__(self, filelike: Any, block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self) -> "FileWrapper":
        return self

    def __next__(self) -> bytes:
        data = self.filelike.read(self.block_size)
        if not data:
            raise StopIteration
        return data


# start_response and the body ----------------------------------------------


# What a status or header may not hold: control characters but tab, and
# characters beyond latin-1.
NOT_SENDABLE = re.compile("[^\t\x20-\x7e\x80-\xff]")


def check_native(what: str, value: Any) -> None:
    """Raises as PEP 3333 asks when value is not a latin-1 native string."""
    if type(value) is not str:
        raise TypeError(f"start_response: {what} must be a str, not {type(value).__name__}")
    bad = NOT_SENDABLE.search(value)
    if bad is None:
        return
    if bad.group() > "\xff":
        raise ValueError(f"start_response: {what} {value!r} is not latin-1 encodable "
                         f"(PEP 3333): {bad.group()!r} at {bad.start()}")
    raise ValueError(f"start_response: {what} {value!r} has the control "
                     f"character {bad.group()!r} at {bad.start()}")


def check_status(status: Any) -> None:
    check_native("the status", status)
    if len(status) < 4 or not status[:3].isdigit() or status[3] != " ":
        raise ValueError(f"start_response: the status {status!r} must be three "
                         f"digits, a space and a reason, as in '200 OK'")


def check_headers(headers: Any) -> None:
    if type(headers) is not list:
        raise TypeError(f"start_response: headers must be a list of (name, value) "
                        f"tuples, not {type(headers).__name__}")
    for header in headers:
        if type(header) is not tuple or len(header) != 2:
            raise TypeError(f"start_response: each header must be a (name, value) "
                            f"tuple, not {header!r}")
        check_native("a header name", header[0])
        check_native(f"the value of {header[0]}", header[1])


def encode_start(status: str, headers: list[tuple[str, str]],
                 exc_info: Optional[tuple]) -> bytes:
    fields = [status]
    for name, value in headers:
        fields += (name, value)
    flag = b"\0"
    if exc_info is not None:
        flag = b"\1"
        fields.insert(0, f"{exception_type_name(exc_info[1])}: {exc_info[1]}")
    encoded = flag + "\0".join(fields).encode("latin-1", "replace")
    if len(encoded) > MAX_FRAME:
        raise ValueError(f"the status and headers take {len(encoded)} bytes; "
                         f"at most {MAX_FRAME} can be sent")
    return encoded


class Response:
    """One response: start_response, write() and the body, as frames to Go.

    Frames wait in pending until something must go out (a chunk, write(),
    the end), so that start_response and a short body share a system call.
    """

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.pending: list[bytes] = []
        self.started = False
        self.committed = False  # body bytes went out: the headers are final
        self.finished = False  # the end went out: the channel is the next request's

    def start_response(self, status: str, headers: list[tuple[str, str]],
                       exc_info: Optional[tuple] = None) -> Callable[[bytes], None]:
        if exc_info is not None:
            if self.committed:
                try:
                    raise exc_info[1].with_traceback(exc_info[2])
                finally:
                    exc_info = None  # no cycle through this frame
        elif self.started:
            raise AssertionError("start_response was called a second time without "
                                 "exc_info; pass sys.exc_info() to replace the headers")
        check_status(status)
        check_headers(headers)
        self.pending = [f for f in self.pending if f[HEADER.size - 1] != START]
        self.pending.append(frame(START, encode_start(status, headers, exc_info)))
        self.started = True
        return self.write

    def write(self, data: bytes) -> None:
        if self.finished:
            raise AssertionError("write() was called after the response was complete: "
                                 "a thread the app started outlived its request")
        if not self.started:
            raise AssertionError("write() was called before start_response()")
        if type(data) is not bytes:
            raise TypeError(f"write() takes bytes, not {type(data).__name__}")
        if self.channel.stop_requested():
            raise ConnectionAbortedError(CLIENT_GONE)
        if data:
            self.committed = True
            self.pending += frames_of(WRITE, data)
        self.flush()

    def send_body(self, result: Iterable[bytes]) -> None:
        """Sends the body; a list's chunks wait to go out with the end.

        A list or tuple is all in memory already: it goes as one chunk, which
        the gateway can send with a Content-Length.
        """
        if type(result) is list or type(result) is tuple:
            for chunk in result:
                if type(chunk) is not bytes:
                    raise TypeError(f"the body must yield bytes, not {type(chunk).__name__}")
            self.add_chunk(result[0] if len(result) == 1 else b"".join(result))
            return
        first = True
        for chunk in result:
            if not first and self.channel.stop_requested():
                raise StopRequested()
            first = False
            if self.add_chunk(chunk):
                self.flush()

    def add_chunk(self, chunk: bytes) -> bool:
        """Queues a chunk; reports whether it holds any bytes."""
        if type(chunk) is not bytes:
            raise TypeError(f"the body must yield bytes, not {type(chunk).__name__}")
        if not chunk:
            return False
        if not self.started:
            raise AssertionError("the body yielded data before start_response() was called")
        self.committed = True
        self.pending += frames_of(CHUNK, chunk)
        return True

    def flush(self) -> None:
        frames, self.pending = self.pending, []
        self.channel.send_frames(frames)

    def finish(self, failure: Optional[BaseException]) -> None:
        """Sends what is pending and the end: DONE, or the exception."""
        if failure is None:
            self.pending.append(frame(DONE))
        else:
            self.pending.append(frame(EXCEPTION, json.dumps(describe_exception(failure)).encode()))
        self.finished = True
        self.flush()


def close_body(result: Any) -> Optional[BaseException]:
    """Calls the body's close(), as PEP 3333 asks on every path; returns what it raised."""
    close = getattr(result, "close", None)
    if close is None:
        return None
    try:
        close()
    except BaseException as error:  # reported to Go like the app's own
        return error
    return None


# Requests -----------------------------------------------------------------


def decode_environ(payload: bytes) -> dict[str, Any]:
    """Decodes Go's environ: latin-1, as PEP 3333's native strings."""
    fields = payload.decode("latin-1").split("\0")
    return dict(zip(fields[0:-1:2], fields[1::2]))


def serve_channel(channel: Channel, app: Callable, base: dict[str, Any]) -> None:
    """Answers requests on one channel until Go closes it."""
    try:
        while True:
            kind, payload = channel.receive()
            if kind == STOP:
                continue  # late: the response it meant had already ended
            if kind != REQUEST:
                fail_protocol(f"frame {kind!r} arrived where a request was expected")
            handle_request(channel, app, base, payload)
    except ChannelClosed:
        return


def handle_request(channel: Channel, app: Callable, base: dict[str, Any],
                   payload: bytes) -> None:
    environ = decode_environ(payload)
    environ.update(base)
    errors = Errors(channel)
    environ["wsgi.input"] = Input(channel)
    environ["wsgi.errors"] = errors
    channel.stop_seen = False
    response = Response(channel)
    result = None
    failure: Optional[BaseException] = None
    gone = False
    try:
        result = app(environ, response.start_response)
        response.send_body(result)
    except StopRequested:
        pass
    except ChannelClosed:
        gone = True
    except BaseException as error:
        failure = error
    closing = close_body(result)
    if gone:
        errors.channel = None
        raise ChannelClosed()
    errors.close()
    response.finish(failure or closing)


# Exceptions ---------------------------------------------------------------


def exception_type_name(error: BaseException) -> str:
    cls = type(error)
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


class FileKinds:
    """Tells the project's files from the standard library's and packages'."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = [os.path.join(os.path.abspath(r), "") for r in roots if r]
        paths = sysconfig.get_paths()
        libraries = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
        try:
            import site
            libraries.update(site.getsitepackages())
            libraries.add(site.getusersitepackages())
        except (ImportError, AttributeError):
            pass
        self.libraries = [os.path.join(os.path.abspath(p), "") for p in libraries if p]

    def is_users(self, filename: str) -> bool:
        if not filename or filename.startswith("<"):
            return False
        path = os.path.abspath(filename)
        if any(part in path for part in ("/site-packages/", "/dist-packages/")):
            return False
        if any(path.startswith(lib) for lib in self.libraries):
            return False
        return any(path.startswith(root) for root in self.roots)


FILE_KINDS = FileKinds([os.getcwd()])


def describe_exception(error: BaseException) -> dict[str, Any]:
    """Returns the exception as the Go side's Exception reads it."""
    summary = traceback.TracebackException(type(error), error, error.__traceback__)
    summary.stack = traceback.StackSummary.from_list(
        [f for f in summary.stack if os.path.abspath(f.filename) != WORKER_FILE])
    frames = [describe_frame(f.filename, f.lineno, f.name, f.line) for f in summary.stack]
    described = {
        "type": exception_type_name(error),
        "message": str(error),
        "text": "".join(summary.format()),
        "frames": frames,
    }
    if isinstance(error, SyntaxError) and error.filename:
        described["syntax"] = {
            "file": os.path.abspath(error.filename),
            "line": error.lineno or 0,
            "column": error.offset or 0,
            "text": (error.text or "").rstrip("\n"),
            "message": error.msg,
        }
        frames.append(describe_frame(error.filename, error.lineno or 0, "", error.text))
    return described


def describe_frame(filename: str, line: Optional[int], function: str,
                   source: Optional[str]) -> dict[str, Any]:
    path = filename if filename.startswith("<") else os.path.abspath(filename)
    return {
        "file": path,
        "line": line or 0,
        "function": function,
        "source": (source or "").strip(),
        "user": FILE_KINDS.is_users(path),
    }


# Loading the app ----------------------------------------------------------


class LoadFailure(Exception):
    """The app cannot be loaded: kind, one sentence, and the exception if any."""

    def __init__(self, kind: str, message: str, error: Optional[BaseException] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.error = error

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"kind": self.kind, "message": self.message}
        if self.error is not None:
            described["exception"] = describe_exception(self.error)
        return described


def import_target(target: dict[str, Any], project: str) -> tuple[types.ModuleType, str]:
    """Imports the target's module; returns it and how the target names it."""
    if target.get("file"):
        return import_file(os.path.join(project, target["file"]), target["file"])
    sys.path.insert(0, project)
    return import_module(target["module"], project), target["module"]


def import_file(path: str, shown: str) -> tuple[types.ModuleType, str]:
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise LoadFailure("missing-module", f"{shown} does not exist: give the path of "
                                            f"the Python file that holds the app")
    directory, name = os.path.split(path[:-len(".py")])
    parts = [name] if name != "__init__" else []
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
    for part in parts:
        if "." in part:
            raise LoadFailure("target", f"{shown} cannot be imported: Python reads the dot "
                                        f"in {part!r} as a package's; rename it")
    sys.path.insert(0, directory)
    module = import_module(".".join(parts), directory)
    check_is_file(module, path, shown)
    return module, shown


def check_is_file(module: types.ModuleType, path: str, shown: str) -> None:
    """Refuses a module imported in the file's name that is not the file:
    one of the standard library's, or an installed package, took it."""
    found = getattr(module, "__file__", None)
    if found and os.path.realpath(found) == os.path.realpath(path):
        return
    where = found or "built into Python"
    raise LoadFailure("target", f"{shown} has the name of another module, {module.__name__} "
                                f"({where}), which Python imports first: rename the file")


def import_module(name: str, directory: str) -> types.ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(error.name + ".")):
            raise LoadFailure("missing-module", f"no module named {name!r} in {directory}: "
                                                f"give a .py file, or a module importable "
                                                f"from there") from None
        raise LoadFailure("import", f"importing {name} failed: {first_line(error)}"
                                    f"{not_installed_hint(error, directory)}", error)
    except ImportError as error:
        raise LoadFailure("import", f"importing {name} failed: {first_line(error)}", error)
    except SyntaxError as error:
        raise LoadFailure("syntax", f"{type(error).__name__}: {error.msg}", error)
    except BaseException as error:
        raise LoadFailure("exception", f"importing {name} raised {first_line(error)}", error)


def not_installed_hint(error: ModuleNotFoundError, directory: str) -> str:
    """Asks whether a missing package is installed for this interpreter.

    The same project often runs under several interpreters (the system's, a
    virtual environment's): the package may be installed for another one.
    A module of the project itself gets no hint.
    """
    top = (error.name or "").split(".")[0]
    if not top or any(os.path.exists(os.path.join(directory, top + suffix))
                      for suffix in ("", ".py")):
        return ""
    return (f"; is {top!r} installed for {sys.executable}? Another interpreter: "
            f"--python, or a virtual environment")


def first_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text.splitlines()[0] if text else type(error).__name__


def find_callable(module: types.ModuleType, shown: str, target: dict[str, Any]) -> Callable:
    name = target.get("name") or ""
    if not name:
        for candidate in ("application", "app"):
            if callable(getattr(module, candidate, None)):
                return getattr(module, candidate)
        raise LoadFailure("missing-callable", no_default_message(module, shown))
    obj = lookup(module, name, shown)
    if target.get("call"):
        obj = call_factory(obj, name, target.get("args") or "", shown)
    if not callable(obj):
        raise LoadFailure("not-callable", f"{shown}:{target_callable(target)} is "
                                          f"{describe_value(obj)}, not a callable: name the "
                                          f"WSGI app after the colon (a function, or an "
                                          f"object such as Flask's app)")
    return obj


def lookup(module: types.ModuleType, name: str, shown: str) -> Any:
    obj: Any = module
    for index, part in enumerate(name.split(".")):
        if not hasattr(obj, part):
            where = shown if index == 0 else ".".join(name.split(".")[:index])
            raise LoadFailure("missing-callable", missing_message(obj, where, part, shown))
        obj = getattr(obj, part)
    return obj


def missing_message(obj: Any, where: str, name: str, shown: str) -> str:
    names = callable_names(obj)
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"{where} has no {name!r}; did you mean {close[0]!r}? ({shown}:{close[0]})"
    if names:
        listed = ", ".join(names[:8])
        return f"{where} has no {name!r}: name one of its callables after the colon ({listed})"
    return f"{where} has no {name!r}, and no callable at all to name after the colon"


def no_default_message(module: types.ModuleType, shown: str) -> str:
    for factory in ("create_app", "make_app"):
        if callable(getattr(module, factory, None)):
            return (f"{shown} has neither 'application' nor 'app'; it has a factory: "
                    f"serve {shown}:{factory}()")
    apps = [n for n in callable_names(module) if looks_like_wsgi_app(getattr(module, n))]
    if apps:
        return (f"{shown} has neither 'application' nor 'app': name the app after a "
                f"colon, as in {shown}:{apps[0]}")
    return (f"{shown} has neither 'application' nor 'app': define one of them, or name "
            f"the WSGI callable after a colon, as in {shown}:myapp")


def callable_names(obj: Any) -> list[str]:
    names = []
    for name in dir(obj):
        if name.startswith("_"):
            continue
        value = getattr(obj, name, None)
        if callable(value) and not isinstance(value, type):
            names.append(name)
    return names


def looks_like_wsgi_app(value: Any) -> bool:
    return hasattr(value, "wsgi_app") or type(value).__name__ in ("WSGIHandler",)


def describe_value(obj: Any) -> str:
    return "None" if obj is None else f"a {type(obj).__name__}"


def target_callable(target: dict[str, Any]) -> str:
    if target.get("call"):
        return f"{target['name']}({target.get('args') or ''})"
    return target["name"]


def call_factory(factory: Any, name: str, args: str, shown: str) -> Any:
    if not callable(factory):
        raise LoadFailure("not-callable", f"{shown}:{name} is {describe_value(factory)}, "
                                          f"not a factory to call: drop the parentheses")
    try:
        call = ast.parse(f"f({args})", mode="eval").body
        positional = [ast.literal_eval(a) for a in call.args]
        keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        if None in keywords:
            raise ValueError("**")
    except (SyntaxError, ValueError):
        raise LoadFailure("target", f"the arguments of {name}({args}) must be Python "
                                    f"literals (strings, numbers, True, None, lists…)") from None
    try:
        return factory(*positional, **keywords)
    except BaseException as error:
        raise LoadFailure("exception", f"{name}({args}) raised {first_line(error)}", error)


def is_flask(app: Any) -> bool:
    return any(cls.__name__ == "Flask" and cls.__module__.split(".")[0] == "flask"
               for cls in type(app).__mro__)


def is_django(app: Any) -> bool:
    return any(cls.__name__ == "WSGIHandler" and cls.__module__.startswith("django.")
               for cls in type(app).__mro__)


def prepare_for_development(app: Any) -> None:
    """Lets a Flask app's exceptions reach wsgo, and its templates reload."""
    if not is_flask(app):
        return
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.config["TEMPLATES_AUTO_RELOAD"] = True
    jinja = app.__dict__.get("jinja_env")  # created on first use
    if jinja is not None:
        jinja.auto_reload = True


def describe_app(app: Any) -> dict[str, Any]:
    """Returns what the Go side reports of the app: its framework and routes."""
    info: dict[str, Any] = {
        "pid": os.getpid(),
        "python": ".".join(map(str, sys.version_info[:3])),
        "kind": "wsgi",
        "routes": [],
    }
    if is_flask(app):
        info["kind"] = "flask"
        try:
            info["routes"] = [{"rule": r.rule, "endpoint": r.endpoint,
                               "methods": sorted(r.methods or ())}
                              for r in app.url_map.iter_rules()]
        except Exception:  # routes are a nicety; never a reason not to serve
            pass
    elif is_django(app):
        info["kind"] = "django"
    return info


# The worker ---------------------------------------------------------------


def open_socket(fd: int) -> socket.socket:
    os.set_inheritable(fd, False)  # the app's own child processes get none
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    return sock


def send_json(sock: socket.socket, kind: int, value: dict[str, Any]) -> None:
    sock.sendall(frame(kind, json.dumps(value).encode()))


def load(config: dict[str, Any]) -> Callable:
    target = config["target"]
    project = config["project"]
    global FILE_KINDS
    roots = [project]
    if target.get("file"):
        roots.append(os.path.dirname(os.path.join(project, target["file"])))
    FILE_KINDS = FileKinds(roots)
    module, shown = import_target(target, project)
    app = find_callable(module, shown, target)
    if config.get("dev"):
        prepare_for_development(app)
    return app


def main(argv: list[str]) -> int:
    config = json.loads(argv[-1])
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(WORKER_FILE)]
    if argv[1:2] == ["--preload"]:
        return preload(config)
    try:
        return run_worker(config)
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the server that started it is gone


def run_worker(config: dict[str, Any]) -> int:
    """Serves the app on the control socket and channels config names."""
    control = open_socket(config["control"])
    channels = [Channel(open_socket(fd)) for fd in config["channels"]]
    control.sendall(frame(HELLO, struct.pack(">H", PROTOCOL_VERSION)))
    if config.get("protocol") != PROTOCOL_VERSION:
        return 2  # the Go side reports the mismatch from HELLO
    threading.Thread(target=exit_when_closed, args=(control,), daemon=True).start()
    try:
        app = load(config)
    except LoadFailure as failure:
        send_json(control, LOAD_ERROR, failure.describe())
        return 1
    base = {
        "wsgi.version": (1, 0),
        "wsgi.multithread": len(channels) > 1,
        "wsgi.multiprocess": bool(config.get("multiprocess")),
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
        # wsgi.input ends where the body ends, chunked or not (gunicorn's
        # and mod_wsgi's extension; Werkzeug reads a body without a length
        # only when it is set).
        "wsgi.input_terminated": True,
    }
    for channel in channels:
        threading.Thread(target=serve_channel, args=(channel, app, base), daemon=True).start()
    send_json(control, READY, describe_app(app))
    threading.Event().wait()  # until exit_when_closed ends the process
    return 0


def exit_when_closed(control: socket.socket) -> None:
    """Ends the process when the Go side closes the control channel: it
    stopped the worker, or it is gone. It watches from the start, so that a
    worker whose import hangs does not outlive the server that started it."""
    try:
        while control.recv(4096):
            pass  # nothing is sent on it after the handshake
    except OSError:
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# The preloader ------------------------------------------------------------
#
# A fork server: it imports the modules the project's source imports from
# outside the project (the standard library, Flask, Django...) once, then
# forks a worker for each request on its socket, so that a worker started
# after a save imports only the project's own code. It forks only while it has a
# single thread, and a forked worker re-seeds what random state needs it
# (CPython's random module does so by itself after a fork).

def preload(config: dict[str, Any]) -> int:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # a restart inherits it ignored
    listener = socket.socket(fileno=config["socket"])
    os.set_inheritable(listener.fileno(), False)
    modules = outside_modules(config)
    loaded = import_quietly(modules)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked workers are reaped by the kernel
    stamps = module_stamps(loaded)
    open(config["ready"], "w").close()
    while True:
        conn, _ = listener.accept()
        with conn:
            if changed_module(stamps):
                reply(conn, {"error": "a module the preloader imported changed on disk"})
                restart_preloader(config)
            serve_fork_request(conn, listener)


def outside_modules(config: dict[str, Any]) -> list[str]:
    """Returns the modules the project's source imports from outside the
    project, as its import statements name them: read, never run, so that
    nothing of the project's runs twice."""
    project = config["project"]
    roots = [project]
    if config["target"].get("file"):
        roots.append(os.path.dirname(os.path.join(project, config["target"]["file"])))
    names: set[str] = set()
    for path in project_sources(project):
        names.update(imported_names(path))
    return sorted(name for name in names if not is_project_module(name, roots))


def project_sources(project: str) -> Iterable[str]:
    """The .py files below project, but those of virtual environments,
    installed packages, caches and hidden directories."""
    for directory, subdirectories, files in os.walk(project):
        subdirectories[:] = [d for d in subdirectories if not skipped_directory(directory, d)]
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(directory, name)


def skipped_directory(parent: str, name: str) -> bool:
    if name.startswith(".") or name in ("__pycache__", "site-packages", "dist-packages", "node_modules"):
        return True
    return os.path.exists(os.path.join(parent, name, "pyvenv.cfg"))


def imported_names(path: str) -> set[str]:
    """The absolute imports of a source file, top-level statements and
    those inside functions alike."""
    try:
        with open(path, "rb") as source:
            tree = ast.parse(source.read(), path)
    except (OSError, SyntaxError, ValueError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def is_project_module(name: str, roots: list[str]) -> bool:
    top = name.split(".")[0]
    return any(os.path.exists(os.path.join(root, top + ".py"))
               or os.path.isdir(os.path.join(root, top)) for root in roots)


def import_quietly(names: list[str]) -> list[types.ModuleType]:
    loaded = []
    for name in names:
        try:
            loaded.append(importlib.import_module(name))
        except BaseException:
            continue  # it will be imported, or fail, in the worker
    return loaded


def module_stamps(modules: list[types.ModuleType]) -> dict[str, float]:
    stamps = {}
    for module in modules:
        filename = getattr(module, "__file__", None)
        if filename:
            try:
                stamps[filename] = os.stat(filename).st_mtime
            except OSError:
                continue
    return stamps


def changed_module(stamps: dict[str, float]) -> bool:
    for filename, mtime in stamps.items():
        try:
            if os.stat(filename).st_mtime != mtime:
                return True
        except OSError:
            return True
    return False


def restart_preloader(config: dict[str, Any]) -> NoReturn:
    """Starts this preloader afresh, on the same socket: a dependency
    changed, and what was imported of it is stale. Until it is ready again,
    workers start from a fresh interpreter."""
    os.remove(config["ready"])
    os.set_inheritable(config["socket"], True)
    os.execv(sys.executable, [sys.executable] + sys.argv)


def serve_fork_request(conn: socket.socket, listener: socket.socket) -> None:
    """Reads a worker's config and descriptors, forks the worker, and
    answers with its pid."""
    message, fds, _, _ = socket.recv_fds(conn, MAX_FRAME, 64)
    if threading.active_count() > 1:
        for fd in fds:
            os.close(fd)
        reply(conn, {"error": "a preloaded module started a thread, and forking then is not safe"})
        return
    try:
        config = json.loads(message)
        config["control"] = fds[config["control"]]
        config["channels"] = [fds[i] for i in config["channels"]]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        for fd in fds:
            os.close(fd)
        reply(conn, {"error": f"a fork request that does not parse: {error}"})
        return
    pid = os.fork()
    if pid == 0:
        listener.close()
        conn.close()
        os.setsid()  # a process group of its own, as a started worker has
        os._exit(run_forked(config))
    for fd in fds:
        os.close(fd)
    reply(conn, {"pid": pid})


def run_forked(config: dict[str, Any]) -> int:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        return run_worker(config)
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the server that asked for it is gone
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def reply(conn: socket.socket, value: dict[str, Any]) -> None:
    try:
        conn.sendall(json.dumps(value).encode())
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv))
