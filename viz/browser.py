"""Loading a report page in headless Chromium and collecting what went wrong there.

`check_page(html_path)` starts Chromium with `--remote-debugging-pipe` (the DevTools protocol over
two pipes: no network port, no websocket package), opens the page, waits for its load event and
returns the console errors, uncaught exceptions, failed resource loads and images that did not
decode. `BrowserSession` is the same driver kept open: navigate, evaluate JavaScript, wait for a
condition, screenshot (the `rldg view` browser test drives the viewer with it). Chromium missing raises `UnavailableError` saying so, so a test can skip with the reason.
"""

from __future__ import annotations

import base64
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


class BrowserSession:
    """Headless Chromium driven over the DevTools pipe: one tab to navigate, evaluate JavaScript
    in, screenshot, and collect errors from (console errors, uncaught exceptions, failed loads).
    A context manager; Chromium missing raises UnavailableError."""

    def __init__(self, timeout: float = 30.0, width: int = 1400, height: int = 1000) -> None:
        self.timeout = timeout
        binary = find_chromium()
        self.profile = tempfile.mkdtemp(prefix="rldg-chromium-")
        to_r, self._to_w = _high_pipe()
        self._from_r, from_w = _high_pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4; the pipe ends sit at fds >= 10
        # so these redirections cannot clobber each other (bash, unlike dash, takes such fds).
        script = f'exec "$0" "$@" 3<&{to_r} 4>&{from_w} {to_r}<&- {from_w}>&-'
        self.proc = subprocess.Popen(["bash", "-c", script, binary, *CHROMIUM_FLAGS,
                                      f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
                                      "about:blank"], pass_fds=(to_r, from_w), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        try:
            self.pipe = _DevToolsPipe(self._to_w, self._from_r)
            target = self.pipe.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
            self.session = self.pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Page"):
                self.pipe.send(f"{domain}.enable", session=self.session)
            self.pipe.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                  "deviceScaleFactor": 1, "mobile": False},
                           session=self.session)
        except BaseException:
            self.close()
            raise

    def navigate(self, url: str, settle: float = 0.0) -> bool:
        """Opens `url`; True once its load event fired (within the timeout)."""
        self.pipe.events = [e for e in self.pipe.events if e["method"] != "Page.loadEventFired"]
        reply = self.pipe.send("Page.navigate", {"url": url}, session=self.session)
        if "errorText" in reply:
            raise RldgError(f"Chromium could not open {url}: {reply['errorText']}")
        if "loaderId" not in reply:  # same-document navigation (only the #hash changed): no load event
            return True
        loaded = self.pipe.wait_for("Page.loadEventFired", self.session, self.timeout)
        if settle:
            self.pipe.wait_for("never", self.session, settle)
        return loaded

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        reply = self.pipe.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                    "awaitPromise": True}, session=self.session)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            raise RldgError(f"page script failed: {details.get('exception', {}).get('description', details)}")
        return reply["result"].get("value")

    def wait_until(self, expression: str, timeout: Optional[float] = None) -> bool:
        """Polls a JavaScript condition until it is truthy; False at the timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            self.pipe.wait_for("never", self.session, 0.1)
        return False

    def screenshot(self, path: str | os.PathLike) -> Path:
        """Saves a PNG of the viewport at `path`."""
        data = self.pipe.send("Page.captureScreenshot", {"format": "png"}, session=self.session)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads seen so far in the tab."""
        return _errors(self.pipe.events, self.session)

    def close(self) -> None:
        if getattr(self, "proc", None) is None:
            return
        try:
            if hasattr(self, "pipe"):
                self.pipe.send("Browser.close", timeout=5)
        except (RldgError, OSError):
            pass
        for fd in (self._to_w, self._from_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "BrowserSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_page(html_path: str | os.PathLike, timeout: float = 30.0, settle: float = 0.5) -> PageCheck:
    """Opens `html_path` in headless Chromium; returns the errors seen while it loaded."""
    url = Path(html_path).resolve().as_uri()
    with BrowserSession(timeout=timeout) as browser:
        loaded = browser.navigate(url, settle=settle)  # settle: late errors after the load event
        images = browser.evaluate(BROKEN_IMAGES_JS) or []
        count = browser.evaluate("document.images.length")
        return PageCheck(url, loaded, browser.errors(), list(images), int(count))


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
