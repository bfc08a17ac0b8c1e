"""The viewer's HTTP server: static page, JSON API and frames, bound to loopback by default.

Routes (GET only):
  /                              the page (static/index.html; hash routes #/, #/episode/N, #/compare/A/B)
  /static/NAME                   files shipped in viz/view/static (no CDN; a path leaving that
                                 folder is refused with 403)
  /api/info                      datasets, their fps and cameras, indexing problems, filter values
  /api/episodes?...              one page of the table (filters, sort, offset, limit: see `parse_query`)
  /api/episode/N                 one episode's arrays and metadata (or its error)
  /api/frame/N/CAMERA/T          one frame, the bytes the dataset stores (JPEG or PNG)
  /api/find?dataset=D&episode_id=E   the row of an episode (for links from `rldg report`)
The server never takes a file path from a request: rows are numbers into the index built at start.
Requests whose Host header names another machine are refused while bound to loopback (a web page
elsewhere cannot read the dataset through DNS rebinding).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import mimetypes
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional, Sequence

from rldg_data.errors import ConfigError, ContractError, RldgError
from rldg_data.io.loopback import check_bind, is_loopback
from viz.view.episode import EpisodeReader
from viz.view.index import EpisodeIndex, Query, build_index, query, row_json

log = logging.getLogger("viz.view")
STATIC_DIR = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; object-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclasses.dataclass(frozen=True)
class ViewConfig:
    """Where to serve: host (loopback unless allow_remote), port (0: any free one), fps override,
    and the index cache folder (None: index every shard at each start)."""

    host: str = "127.0.0.1"
    port: int = 8765
    allow_remote: bool = False
    fps: Optional[float] = None
    index_cache: Optional[str] = None

    def __post_init__(self) -> None:
        check_bind(self.host, self.port, self.allow_remote, "read the datasets")
        if self.fps is not None and self.fps <= 0:
            raise ConfigError(f"--fps must be positive, got {self.fps}")


class BadRequest(RldgError):
    """A request the API cannot answer (HTTP 400)."""


QUERY_PARAMS = frozenset({"dataset", "data_split", "task", "variant", "split", "policy_id", "source",
                          "success", "step_source", "stage", "q", "min_length", "max_length", "errors",
                          "sort", "desc", "offset", "limit"})


def parse_query(params: dict[str, list[str]]) -> Query:
    """A `Query` from URL parameters: dataset, data_split, task, variant, split, policy_id, source
    (equality), success=true|false, step_source, stage, q (episode id substring), min_length,
    max_length, errors=1, sort, desc=1, offset, limit."""
    unknown = sorted(set(params) - QUERY_PARAMS)
    if unknown:
        raise BadRequest(f"unknown table parameter(s) {', '.join(unknown)} (known: {', '.join(sorted(QUERY_PARAMS))})")
    one = {k: v[-1] for k, v in params.items() if v and v[-1] != ""}
    filters = tuple((k, one[k]) for k in ("dataset", "data_split", "task", "variant", "split",
                                          "policy_id", "source") if k in one)
    try:
        success = {"true": True, "false": False}[one["success"]] if "success" in one else None
        number = lambda k: int(one[k]) if k in one else None  # noqa: E731
        return Query(filters=filters, success=success, step_source=one.get("step_source", ""),
                     stage=number("stage"), search=one.get("q", ""), min_length=number("min_length"),
                     max_length=number("max_length"), errors_only=one.get("errors") == "1",
                     sort=one.get("sort", "row"), descending=one.get("desc") == "1",
                     offset=number("offset") or 0,
                     limit=50 if number("limit") is None else number("limit"))
    except (KeyError, ValueError) as exc:
        raise BadRequest(f"bad table parameter: {exc}") from None
    except ConfigError as exc:
        raise BadRequest(str(exc)) from None


def static_file(name: str) -> Optional[Path]:
    """The file `name` inside STATIC_DIR, or None if it is not there or resolves outside it."""
    path = (STATIC_DIR / name).resolve()
    if path != STATIC_DIR and STATIC_DIR not in path.parents:
        return None
    return path if path.is_file() else None


class ViewApp:
    """The index, the episode reader and the request routing (independent of the socket)."""

    def __init__(self, index: EpisodeIndex) -> None:
        self.index = index
        self.reader = EpisodeReader(index)

    def info(self) -> dict:
        return {"datasets": [{"label": d.label, "name": d.files.name, "version": d.files.version,
                              "path": str(d.files.path), "fps": d.fps, "cameras": d.cameras,
                              "episodes": d.files.num_episodes, "spec_error": d.files.spec_error}
                             for d in self.index.datasets],
                "episodes": len(self.index), "problems": self.index.problems,
                "facets": self.index.facets()}

    def handle(self, raw_path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of `raw_path`."""
        parsed = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(parsed.path)
        params = urllib.parse.parse_qs(parsed.query)
        if ".." in path.split("/") or "\\" in path or "\0" in path:
            return _error(403, f"path {path!r} leaves the viewer's folder: refused")
        parts = [p for p in path.split("/") if p]
        try:
            if not parts or parts == ["index.html"]:
                return self._static("index.html")
            if parts[0] == "static" and len(parts) >= 2:
                return self._static("/".join(parts[1:]))
            if parts[0] == "api":
                return self._api(parts[1:], params)
        except BadRequest as exc:
            return _error(400, str(exc))
        return _error(404, f"no such page: {path}")

    def _static(self, name: str) -> tuple[int, str, bytes]:
        path = static_file(name)
        if path is None:
            if (STATIC_DIR / name).resolve().is_relative_to(STATIC_DIR):
                return _error(404, f"no static file {name!r}")
            return _error(403, f"path {name!r} leaves the viewer's folder: refused")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript",):
            kind += "; charset=utf-8"
        return 200, kind, path.read_bytes()

    def _row(self, text: str) -> int:
        try:
            row = int(text)
        except ValueError:
            raise BadRequest(f"episode number {text!r} is not an integer") from None
        if not 0 <= row < len(self.index):
            raise BadRequest(f"no episode {row} (the table has {len(self.index)})")
        return row

    def _api(self, parts: list[str], params: dict) -> tuple[int, str, bytes]:
        if parts == ["info"]:
            return _json(self.info())
        if parts == ["episodes"]:
            return _json(query(self.index, parse_query(params)))
        if len(parts) == 2 and parts[0] == "episode":
            return _json(self.reader.episode_json(self._row(parts[1])))
        if len(parts) == 2 and parts[0] == "row":
            return _json(row_json(self.index, self._row(parts[1])))
        if len(parts) == 4 and parts[0] == "frame":
            try:
                step = int(parts[3])
            except ValueError:
                raise BadRequest(f"step {parts[3]!r} is not an integer") from None
            try:
                blob, kind = self.reader.frame(self._row(parts[1]), parts[2], step)
            except ContractError as exc:
                return _error(404, str(exc))
            return 200, kind, blob
        if parts == ["find"]:
            dataset = (params.get("dataset") or [""])[-1]
            episode_id = (params.get("episode_id") or [""])[-1]
            row = self.index.find(dataset, episode_id)
            if row is None:
                return _error(404, f"no episode {episode_id!r} in {dataset or 'any dataset'!r}")
            return _json({"row": row})
        return _error(404, f"no API route /api/{'/'.join(parts)}")


def _json(obj) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps(obj, allow_nan=False).encode()


def _error(status: int, message: str) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps({"error": message}).encode()


def make_handler(app: ViewApp, loopback_only: bool):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if loopback_only and not _host_is_local(self.headers.get("Host", "")):
                status, kind, body = _error(403, "this viewer answers only requests addressed to loopback")
            else:
                try:
                    status, kind, body = app.handle(self.path)
                except Exception as exc:  # a bug must not kill the server: show it on the page
                    log.exception("viewer request %s failed", self.path)
                    status, kind, body = _error(500, f"{type(exc).__name__}: {exc}")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store" if kind.startswith("application/json") else "max-age=60")
            for key, value in SECURITY_HEADERS.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args) -> None:
            log.debug("%s " + fmt, self.address_string(), *args)

    return Handler


def _host_is_local(host_header: str) -> bool:
    host = host_header.rsplit(":", 1)[0] if not host_header.startswith("[") else host_header[1:].split("]")[0]
    return host == "" or is_loopback(host)


class Viewer:
    """A running viewer: `start()` serves in a thread, `url`, `stop()`; also a context manager."""

    def __init__(self, paths: Sequence[str], config: ViewConfig = ViewConfig()) -> None:
        self.config = config
        self.index = build_index(paths, fps=config.fps, cache=config.index_cache)
        self.app = ViewApp(self.index)
        if config.allow_remote and not is_loopback(config.host):
            log.warning("serving datasets on %s: anyone who can reach this machine on port %s can read "
                        "them (no authentication)", config.host, config.port)
        try:
            self.httpd = ThreadingHTTPServer((config.host, config.port),
                                             make_handler(self.app, loopback_only=not config.allow_remote))
        except OSError as exc:
            raise RldgError(f"cannot serve on {config.host}:{config.port}: {exc.strerror or exc}"
                            f"{'; another program (or viewer) uses that port: pass --port N, or 0 for any free one' if exc.errno == 98 else ''}") from None
        self.httpd.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}/"

    def start(self) -> "Viewer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="rldg-view", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.server_close()

    def __enter__(self) -> "Viewer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
