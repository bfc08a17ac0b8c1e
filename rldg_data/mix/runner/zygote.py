"""A preloaded process that forks the mix's Beam SDK worker processes (`rldg mix --workers N`).

Why: in multi-processing mode Beam's FnApiRunner starts each worker of each pipeline run as a new
`python -m apache_beam.runners.worker.sdk_worker_main`, which imports Beam (pandas, pyarrow, the
GCP client modules) and then the mix's record layer before it reads its first shard: ~1.2 CPU-s and
~1.1 s per worker and run, a fifth of the whole 400k-step benchmark build (BENCHMARKS.md, "mix
scaling"). The zygote imports them once, in a fresh interpreter; every worker is a fork of it
(milliseconds), already holding the imports.

Safety: the zygote is not a fork of the driver, whose gRPC, TensorFlow or torch threads and locks
would not survive a fork: it is a new interpreter that imports only Beam's worker and the mix code,
starts no thread of its own and never touches gRPC, so each worker starts from a quiet copy and
opens its own channels (the native libraries it holds, OpenBLAS and pyarrow's jemalloc, handle fork
themselves). The zygote and its workers ignore SIGINT: Ctrl-C is the driver's, whose worker handler
(`mix.runner.local_runner`) then ends the workers at once instead of letting them finish their bundles.
The zygote exits when the driver closes its request pipe (driver done, or killed), and then ends
any worker still running.

Protocol, JSON lines over two pipes: the driver sends `{"id", "env"}`; the zygote answers
`{"ready"}` once its imports are done, `{"id", "pid"}` after each fork and `{"id", "exit"}` when
that worker ends. `WorkerPool` is the driver's side; `shared_pool()` keeps one
per driver process (started on first use, or early by `prestart()`, which `rldg mix --workers N`
calls before its own imports so that the two overlap).
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

from rldg_data.io.space import QuietSpaceErrorStream

log = logging.getLogger(__name__)

PRELOAD = ("apache_beam.runners.worker.sdk_worker_main", "grpc._channel", "grpc._interceptor",
           "rldg_data.mix.pipeline")
DISABLE_VARIABLE = "RLDG_MIX_FORKED_WORKERS"  # "0": Beam starts each worker as a new interpreter
STATE_SAMPLING_PERIOD_MS = 10  # Beam's default is 200 ms; see `_prompt_bundle_ends`
_PATH_VARIABLE = "RLDG_ZYGOTE_SYS_PATH"
_BOOT = ("import json, os, sys; sys.path[:] = json.loads(os.environ.pop('RLDG_ZYGOTE_SYS_PATH')); "
         "from rldg_data.mix.runner.zygote import serve; serve(sys.argv[1:])")


def available() -> bool:
    """Whether workers can be forked here: Linux (fork is the platform's own way to start
    processes), and not turned off with RLDG_MIX_FORKED_WORKERS=0."""
    return sys.platform.startswith("linux") and os.environ.get(DISABLE_VARIABLE, "1") != "0"


# --- the zygote process ---------------------------------------------------------------------

def serve(argv: Sequence[str]) -> None:
    """The zygote's main loop: `argv` is (request fd, reply fd, modules to import first...)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    req_fd, rep_fd, preload = int(argv[0]), int(argv[1]), argv[2:]
    for name in preload:
        importlib.import_module(name)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through the wakeup fd
    own_fds = (req_fd, rep_fd, wake_r, wake_w)
    children: dict[int, int] = {}  # pid -> request id

    def reply(message: dict) -> None:
        try:
            _write_all(rep_fd, (json.dumps(message) + "\n").encode())
        except BrokenPipeError:  # the driver is gone
            _end_children(children)
            os._exit(0)

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            reply({"id": children.pop(pid), "exit": os.waitstatus_to_exitcode(status)})

    selector = selectors.DefaultSelector()
    selector.register(req_fd, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    reply({"ready": os.getpid()})
    pending = b""
    while True:
        for key, _ in selector.select():
            if key.fd == wake_r:
                os.read(wake_r, 4096)
                reap()
                continue
            chunk = os.read(req_fd, 65536)
            if not chunk:  # the driver closed the pipe, or died
                _end_children(children)
                os._exit(0)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _run_worker(request["env"], own_fds)  # never returns
                children[pid] = request["id"]
                reply({"id": request["id"], "pid": pid})
        reap()


def _end_children(children: Mapping[int, int], grace_s: float = 5.0) -> None:
    """SIGTERM the workers still running, SIGKILL what is left after `grace_s`."""
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    alive = set(children)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    alive.discard(pid)
            except ChildProcessError:
                alive.discard(pid)
        time.sleep(0.05)
    for pid in alive:
        _signal(pid, signal.SIGKILL)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _run_worker(env: Mapping[str, str], own_fds: Sequence[int]) -> None:
    """In a fresh fork: become one Beam SDK worker with the driver's environment, then exit."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle: it ends the workers
        for fd in own_fds:
            os.close(fd)
        os.environ.clear()
        os.environ.update(env)
        from apache_beam.runners.worker import sdk_worker_main

        root = logging.getLogger()
        for handler in list(root.handlers):  # Beam's import left a stderr handler (basicConfig):
            root.removeHandler(handler)  # records go to the driver's logging, through Beam's log service
        logging.getLogger(sdk_worker_main.__name__).addFilter(_NoMainSessionWarning())
        sys.stderr = QuietSpaceErrorStream(sys.stderr)  # a full disk: the driver's one line says it
        _prompt_bundle_ends()
        sdk_worker_main.main([])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported, then the exit code says it
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


def _prompt_bundle_ends() -> None:
    """Makes this worker's bundles end when their work does, not up to 0.2 s later.

    Every bundle starts a state-sampler thread (per-step time, for Beam's "processing stuck" logs)
    that sleeps between samples for a period growing to `DEFAULT_SAMPLING_PERIOD_MS` (200 ms), and
    ends by joining it: the worker idles through the rest of that sleep before it reports the
    bundle done (BENCHMARKS.md, "Design measurements"). A 10 ms period
    costs one lock take per 10 ms on a thread that holds no GIL. Worker processes only: the driver's
    Beam is left as the user has it."""
    from apache_beam.runners.worker import statesampler

    beams = statesampler.StateSampler

    class StateSampler(beams):  # bundle_processor builds `statesampler.StateSampler(prefix, counters)`
        def __init__(self, prefix, counter_factory, sampling_period_ms=STATE_SAMPLING_PERIOD_MS):
            super().__init__(prefix, counter_factory, sampling_period_ms)

    statesampler.StateSampler = StateSampler


class _NoMainSessionWarning(logging.Filter):
    """Drops Beam's "No semi_persistent_directory found" warning, which every local worker logs
    (and the driver prints): a local worker has no staged main session to load, and the mix's
    DoFns do not need one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("No semi_persistent_directory found")


# --- the driver's side ------------------------------------------------------------------------

@dataclass
class ForkedWorker:
    """One worker the zygote forked: its pid once known, its exit code once it ended."""

    id: int
    pid: Optional[int] = None
    exit_code: Optional[int] = None
    error: Optional[str] = None
    on_exit: Optional[Callable[["ForkedWorker"], None]] = field(default=None, repr=False)
    _started: threading.Event = field(default_factory=threading.Event, repr=False)
    _ended: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Waits for the worker to end; False if it still runs after `timeout` seconds."""
        return self._ended.wait(timeout)

    def _end(self) -> None:
        self._ended.set()
        if self.on_exit is not None:
            try:
                self.on_exit(self)
            except Exception:  # noqa: BLE001 - a callback must not stop the reply reader
                log.exception("worker %s: exit callback failed", self.pid)

    def kill(self) -> None:
        self._send(signal.SIGKILL)

    def terminate(self) -> None:
        self._send(signal.SIGTERM)

    def _send(self, sig: int) -> None:
        if not self._ended.is_set():
            self._started.wait(5.0)  # its pid is on its way from the zygote
        if self.pid is not None and not self._ended.is_set():
            _signal(self.pid, sig)


class WorkerPool:
    """The driver's handle on one zygote process: `spawn(env)` forks a worker with that environment."""

    def __init__(self, preload: Sequence[str] = PRELOAD) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        env = dict(os.environ, **{_PATH_VARIABLE: json.dumps(sys.path)})
        self.owner = os.getpid()
        self.process = subprocess.Popen([sys.executable, "-c", _BOOT, str(req_r), str(rep_w), *preload],
                                        pass_fds=(req_r, rep_w), env=env, stdin=subprocess.DEVNULL)
        os.close(req_r)
        os.close(rep_w)
        self._req = req_w
        self._rep = os.fdopen(rep_r, "rb")
        self._lock = threading.Lock()
        self._workers: dict[int, ForkedWorker] = {}
        self._next_id = 0
        self.ready = threading.Event()
        self.closed = False
        self._reader = threading.Thread(target=self._read_replies, name="rldg-zygote-replies", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return not self.closed and self.process.poll() is None

    def spawn(self, env: Mapping[str, str],
              on_exit: Optional[Callable[[ForkedWorker], None]] = None) -> ForkedWorker:
        """Forks one worker whose os.environ is `env`; returns at once (the fork follows).
        `on_exit(worker)` runs on the pool's reader thread when the worker has ended."""
        with self._lock:
            if not self.alive:
                raise RuntimeError(f"the mix's worker zygote (pid {self.process.pid}) is not running")
            worker = ForkedWorker(self._next_id, on_exit=on_exit)
            self._workers[worker.id] = worker
            self._next_id += 1
            _write_all(self._req, (json.dumps({"id": worker.id, "env": dict(env)}) + "\n").encode())
        return worker

    def _read_replies(self) -> None:
        for line in self._rep:
            message = json.loads(line)
            if "ready" in message:
                self.ready.set()
                continue
            with self._lock:
                worker = self._workers[message["id"]]
            if "pid" in message:
                worker.pid = message["pid"]
                worker._started.set()
            else:
                worker.exit_code = message["exit"]
                with self._lock:
                    self._workers.pop(worker.id, None)
                worker._end()
        # EOF: the zygote is gone; no worker it forked can report any more
        with self._lock:
            self.closed = True
            orphans, self._workers = list(self._workers.values()), {}
        for worker in orphans:
            worker.error = f"the worker zygote (pid {self.process.pid}) exited before this worker reported"
            worker._end()

    def close(self, timeout: float = 10.0) -> None:
        """Ends the zygote (it ends the workers still running) and waits for it."""
        if self.owner != os.getpid():
            return  # a forked copy of the driver: the zygote is not ours to close
        with self._lock:
            self.closed = True
            if self._req is not None:
                os.close(self._req)
                self._req = None
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout)


_shared: Optional[WorkerPool] = None
_shared_lock = threading.Lock()


def shared_pool() -> WorkerPool:
    """This driver process's zygote, started on first use (and again if it died)."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.alive or _shared.owner != os.getpid():
            _shared = WorkerPool()
            atexit.register(_shared.close)
        return _shared


def prestart() -> None:
    """Starts the zygote now, if forked workers are available, so that its imports overlap the
    driver's own (the CLI calls this first); a mix started later uses it."""
    if available():
        shared_pool()
