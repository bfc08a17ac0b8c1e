"""Loading a report page in headless Chromium and collecting what went wrong there.

`check_page(html_path)` starts Chromium with `--remote-debugging-pipe` (the DevTools protocol over
two pipes: no network port, no websocket package), opens the page, waits for its load event and
returns the console errors, uncaught exceptions, failed resource loads and images that did not
decode. Chromium missing raises `UnavailableError` saying so, so a test can skip with the reason.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

from rldg_data.errors import RldgError, UnavailableError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage", "--remote-debugging-pipe")
BROKEN_IMAGES_JS = ("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                    ".map(i => i.getAttribute('src'))")


@dataclasses.dataclass(frozen=True)
class PageCheck:
    """What loading a page produced: error messages, undecodable images, whether it loaded."""

    url: str
    loaded: bool
    errors: list[str]
    broken_images: list[str]
    num_images: int

    @property
    def ok(self) -> bool:
        return self.loaded and not self.errors and not self.broken_images


def find_chromium() -> str:
    """Path of a Chromium/Chrome binary; UnavailableError naming how to install one."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise UnavailableError("headless Chromium is not installed (looked for "
                           f"{', '.join(CHROMIUM_NAMES)}); on Debian: apt-get install -y chromium")


class _DevToolsPipe:
    """The DevTools protocol over Chromium's pipes: NUL-terminated JSON messages."""

    def __init__(self, to_browser: int, from_browser: int) -> None:
        self.to_browser, self.from_browser = to_browser, from_browser
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: Optional[dict] = None, session: Optional[str] = None,
             timeout: float = 30.0) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self.receive(deadline)
            if reply is None:
                raise RldgError(f"Chromium did not answer {method} within {timeout:.0f} s")
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RldgError(f"Chromium refused {method}: {reply['error']}")
                return reply.get("result", {})

    def receive(self, deadline: float) -> Optional[dict]:
        """The next message (events are also kept in `self.events`); None at the deadline."""
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                return None
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                raise RldgError("Chromium closed its DevTools pipe (it crashed or exited)")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self.events.append(message)
        return message

    def wait_for(self, method: str, session: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if any(e["method"] == method and e.get("sessionId") == session for e in self.events):
                return True
            if self.receive(deadline) is None:
                return False


def check_page(html_path: str | os.PathLike, timeout: float = 30.0, settle: float = 0.5) -> PageCheck:
    """Opens `html_path` in headless Chromium; returns the errors seen while it loaded."""
    binary = find_chromium()
    url = Path(html_path).resolve().as_uri()
    profile = tempfile.mkdtemp(prefix="rldg-chromium-")
    to_r, to_w = _high_pipe()
    from_r, from_w = _high_pipe()
    # Chromium reads commands on fd 3 and writes replies on fd 4; the pipe ends sit at fds >= 10
    # so these redirections cannot clobber each other (bash, unlike dash, takes such fds).
    script = f'exec "$0" "$@" 3<&{to_r} 4>&{from_w} {to_r}<&- {from_w}>&-'
    proc = subprocess.Popen(["bash", "-c", script, binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                             "about:blank"], pass_fds=(to_r, from_w), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(to_r)
    os.close(from_w)
    try:
        pipe = _DevToolsPipe(to_w, from_r)
        target = pipe.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            pipe.send(f"{domain}.enable", session=session)
        pipe.send("Page.navigate", {"url": url}, session=session)
        loaded = pipe.wait_for("Page.loadEventFired", session, timeout)
        pipe.wait_for("never", session, settle)  # late errors after the load event
        images = pipe.send("Runtime.evaluate", {"expression": BROKEN_IMAGES_JS, "returnByValue": True},
                           session=session)["result"].get("value", [])
        count = pipe.send("Runtime.evaluate", {"expression": "document.images.length",
                                               "returnByValue": True}, session=session)["result"]["value"]
        try:
            pipe.send("Browser.close", timeout=5)
        except RldgError:
            pass
        return PageCheck(url, loaded, _errors(pipe.events, session), list(images), int(count))
    finally:
        os.close(to_w)
        os.close(from_r)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _high_pipe() -> tuple[int, int]:
    """A pipe whose two ends are file descriptors >= 10."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD, 10))
        os.close(fd)
    return ends[0], ends[1]


def _errors(events: list[dict], session: str) -> list[str]:
    found = []
    for event in events:
        if event.get("sessionId") != session:
            continue
        params = event.get("params", {})
        if event["method"] == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append("uncaught: " + details.get("exception", {}).get("description", details.get("text", "")))
        elif event["method"] == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append("console.error: " + " ".join(str(a.get("value", a.get("description", "")))
                                                       for a in params.get("args", [])))
        elif event["method"] == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            found.append(f"{entry.get('source', 'log')}: {entry.get('text', '')} {entry.get('url', '')}".strip())
    return found
