"""pytest plugin: a real headless Chromium for testing the HTML report as a person sees it.

Well-formed SVG can still render as nothing (a zero-size box, a broken
``viewBox``) and a page can still log errors, so report tests open the real
page in Debian's Chromium. Fixture ``chromium`` (session scope) offers:

* ``screenshot(html, png, width=1280, height=2000)``: a PNG of the viewport
  (command-line ``--screenshot``);
* ``dom(html)``: the DOM after load (``--dump-dom``);
* ``run(html, expressions)``: one page load driven over the DevTools protocol,
  returning every console message, uncaught exception and failed resource load
  plus the JSON values of the given JavaScript expressions;
* ``console_errors(html)``, ``svg_boxes(html)`` and ``image_stats(png)`` on top
  of ``run``;
* ``run(..., view=View(...))`` shows the page as a phone (``PHONE``: 390 CSS px),
  under print media or with ``prefers-color-scheme: dark``, emulated over DevTools
  before the load; ``pdf=`` prints it (``Page.printToPDF``), ``png=`` screenshots it;
* ``axe(html, view)``: axe-core's violations, the vendored ``tests/vendor/axe.min.js``
  evaluated in the page (no network, the page's CSP untouched).

Console errors come from the DevTools protocol over ``--remote-debugging-pipe``
(file descriptors 3 and 4, NUL-separated JSON), which needs no extra package
and, unlike parsing ``--enable-logging=stderr``, keeps each message's level and
also reports failed loads (a missing image) and CSP violations. Measuring is
done with ``Runtime.evaluate`` on the page as it is, so no copy of the page with
an injected script is needed, and a report with a strict Content-Security-Policy
measures the same as it renders.

Every launch uses a fresh profile directory and the flags this offline, root,
GPU-less machine needs. Without a Chromium the fixture skips, or fails when the
``CI`` environment variable is set (CI must not go green by skipping);
``bash .ci/chromium-install.sh`` installs one. ``PDCA_CHROMIUM`` names a
binary explicitly.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CANDIDATES: tuple[str, ...] = ("/usr/bin/chromium", "chromium", "chromium-browser")

BASE_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)
"""Mandatory here (root, offline, no GPU); ``--user-data-dir`` is added per launch."""

INSTALL_HINT = "install it with `bash .ci/chromium-install.sh` (Debian package `chromium`)"


def find_chromium() -> str | None:
    """Path of a Chromium binary: ``$PDCA_CHROMIUM``, Debian's, or one on PATH."""
    explicit = os.environ.get("PDCA_CHROMIUM")
    if explicit:
        found = shutil.which(explicit)
        return found
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    """Chromium could not load the page or answer in time; carries its stderr tail."""


@dataclass(frozen=True, slots=True)
class ConsoleMessage:
    """One thing the page reported: a console call, an uncaught exception or a log entry."""

    level: str
    """``error``, ``warning``, ``info``, ``log``, ``debug`` or ``verbose``."""
    source: str
    """``console``, ``exception``, or the DevTools log source (``network``, ``security``...)."""
    text: str
    url: str = ""

    def __str__(self) -> str:
        where = f" ({self.url})" if self.url else ""
        return f"[{self.level}/{self.source}] {self.text}{where}"


@dataclass(slots=True)
class PageRun:
    """What one page load produced: its messages and the evaluated expressions' values."""

    console: list[ConsoleMessage] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[ConsoleMessage]:
        return [m for m in self.console if m.level == "error"]


def file_url(path: str | os.PathLike[str]) -> str:
    return Path(path).resolve().as_uri()


class _Pipe:
    """A minimal DevTools-protocol client over Chromium's ``--remote-debugging-pipe``."""

    def __init__(self, write_fd: int, read_fd: int, deadline: float) -> None:
        self.write_fd = write_fd
        self.read_fd = read_fd
        self.deadline = deadline
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: Mapping[str, Any] | None = None, session: str = "") -> int:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            written = os.write(self.write_fd, data)
            data = data[written:]
        return self.next_id

    def receive(self, until: Callable[[dict[str, Any]], bool], timeout: float | None) -> dict:
        """Read messages, keeping events, until one matches ``until``; TimeoutError otherwise."""
        end = self.deadline if timeout is None else min(self.deadline, time.monotonic() + timeout)
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                message = json.loads(raw)
                if until(message):
                    return message
                if "method" in message:
                    self.events.append(message)
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.read_fd], [], [], left)
            if ready:
                chunk = os.read(self.read_fd, 1 << 20)
                if not chunk:
                    raise BrowserError("Chromium closed the DevTools pipe (did it crash?)")
                self.buffer += chunk

    def call(self, method: str, params: Mapping[str, Any] | None = None, session: str = "") -> Any:
        ident = self.send(method, params, session)
        reply = self.receive(lambda m: m.get("id") == ident, None)
        if "error" in reply:
            raise BrowserError(f"{method} failed: {reply['error']}")
        return reply.get("result", {})

    def drain(self, seconds: float) -> None:
        """Keep collecting events for ``seconds``: late errors (timers, images) included."""
        with contextlib.suppress(TimeoutError):
            self.receive(lambda m: False, seconds)


def _console_messages(events: list[dict[str, Any]]) -> list[ConsoleMessage]:
    out: list[ConsoleMessage] = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            kind = params.get("type", "log")
            level = {"assert": "error", "warning": "warning", "error": "error"}.get(kind, kind)
            text = " ".join(
                str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", [])
            )
            frames = (params.get("stackTrace") or {}).get("callFrames") or [{}]
            out.append(ConsoleMessage(level, "console", text, frames[0].get("url", "")))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exc = details.get("exception") or {}
            text = exc.get("description") or details.get("text", "exception")
            out.append(ConsoleMessage("error", "exception", text, details.get("url", "")))
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            out.append(
                ConsoleMessage(
                    entry.get("level", "info"),
                    entry.get("source", "other"),
                    entry.get("text", ""),
                    entry.get("url", ""),
                )
            )
    return out


SVG_BOXES_JS = """JSON.stringify([...document.querySelectorAll('svg')].map((s, i) => {
  const r = s.getBoundingClientRect();
  const t = s.querySelector('title');
  return {index: i, x: r.x + window.scrollX, y: r.y + window.scrollY,
          width: r.width, height: r.height,
          title: t ? t.textContent : null, parent: s.parentElement.tagName.toLowerCase()};
}))"""
"""Drawn size of every ``<svg>`` in page coordinates (the measuring helper)."""

IMAGE_STATS_JS = """new Promise((resolve, reject) => {
  const img = document.getElementById('pdca-image');
  const go = () => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const counts = new Map();
    for (let i = 0; i < d.length; i += 4) {
      const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
      counts.set(k, (counts.get(k) || 0) + 1);
    }
    let top = 0, topKey = 0;
    for (const [k, v] of counts) { if (v > top) { top = v; topKey = k; } }
    resolve(JSON.stringify({width: c.width, height: c.height, colours: counts.size,
      dominant: '#' + topKey.toString(16).padStart(6, '0'),
      dominant_fraction: top / (c.width * c.height)}));
  };
  if (img.complete && img.naturalWidth) go();
  else { img.onload = go; img.onerror = () => reject(new Error('image did not decode')); }
})"""


@dataclass(frozen=True, slots=True)
class View:
    """How the page is shown: viewport width in CSS px, phone or desktop, media type and
    colour scheme, all emulated over DevTools before the page loads."""

    width: int = 1280
    height: int = 2000
    mobile: bool = False
    media: str = ""
    """``print`` or ``screen``; empty for the browser's own."""
    scheme: str = ""
    """``dark`` or ``light`` for ``prefers-color-scheme``; empty for the browser's own."""
    full: bool = True
    """A screenshot of the whole page; False for only the viewport (where it is scrolled to)."""

    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        features = [{"name": "prefers-color-scheme", "value": self.scheme}] if self.scheme else []
        return [
            (
                "Emulation.setDeviceMetricsOverride",
                {
                    "width": self.width,
                    "height": self.height,
                    "deviceScaleFactor": 1,
                    "mobile": self.mobile,
                },
            ),
            ("Emulation.setEmulatedMedia", {"media": self.media, "features": features}),
        ]


PHONE = View(width=390, height=844, mobile=True)
"""A phone held upright: the width of most current phones, in CSS px."""

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
"""axe-core, vendored (MPL-2.0, see tests/vendor/README.md): no network at test time."""

AXE_RUN_JS = """axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(
  r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                              summary: n.failureSummary}))}))))"""


class Chromium:
    """One headless Chromium binary; every method is a separate, isolated launch."""

    def __init__(self, binary: str, timeout: float = 60.0) -> None:
        self.binary = binary
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Chromium({self.binary!r})"

    @contextlib.contextmanager
    def _profile(self) -> Iterator[str]:
        path = tempfile.mkdtemp(prefix="pdca-chromium-")
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def _argv(self, profile: str, width: int, height: int, *extra: str) -> list[str]:
        return [
            self.binary,
            *BASE_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            *extra,
        ]

    def _cli(self, extra: list[str], width: int, height: int) -> subprocess.CompletedProcess:
        """One command-line run in its own process group, so a hung browser is ended whole."""
        with self._profile() as profile:
            argv = self._argv(profile, width, height, *extra)
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            try:
                out, err = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired as exc:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise BrowserError(f"Chromium took over {self.timeout:.0f}s: {argv}") from exc
            return subprocess.CompletedProcess(argv, proc.returncode, out, err)

    def screenshot(
        self,
        html_path: str | os.PathLike[str],
        png_path: str | os.PathLike[str],
        width: int = 1280,
        height: int = 2000,
    ) -> Path:
        """A PNG of the first ``width`` × ``height`` pixels of the page."""
        png = Path(png_path).resolve()
        png.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            png.unlink()
        proc = self._cli([f"--screenshot={png}", file_url(html_path)], width, height)
        if not png.exists() or png.stat().st_size == 0:
            raise BrowserError(
                f"Chromium wrote no screenshot (exit {proc.returncode}):\n"
                + _tail(proc.stderr.decode(errors="replace"))
            )
        return png

    def dom(self, html_path: str | os.PathLike[str], width: int = 1280, height: int = 2000) -> str:
        """The serialised DOM after the page's load event."""
        proc = self._cli(["--dump-dom", file_url(html_path)], width, height)
        text = proc.stdout.decode("utf-8", errors="replace")
        if proc.returncode != 0 or "<html" not in text.lower():
            raise BrowserError(
                f"--dump-dom failed (exit {proc.returncode}):\n"
                + _tail(proc.stderr.decode(errors="replace"))
            )
        return text

    def run(
        self,
        html_path: str | os.PathLike[str],
        expressions: Mapping[str, str] | None = None,
        *,
        width: int = 1280,
        height: int = 2000,
        settle: float = 0.3,
        view: View | None = None,
        scripts: tuple[str, ...] = (),
        pdf: tuple[str | os.PathLike[str], Mapping[str, Any]] | None = None,
        png: str | os.PathLike[str] | None = None,
        timeout: float | None = None,
    ) -> PageRun:
        """Load the page over DevTools, wait for ``load`` + ``settle`` seconds, evaluate.

        ``view`` emulates a viewport and media (print, dark) from before the load;
        ``scripts`` run after the load and before the expressions (axe-core);
        ``pdf`` is ``(path, Page.printToPDF options)``: the page printed there last;
        ``png`` a path for a screenshot of the whole page as shown in ``view``;
        ``timeout`` replaces the browser's own for this load (axe on a long page).
        Each expression's value is returned by value (strings that hold JSON are
        decoded); an expression that throws raises BrowserError.
        """
        url = file_url(html_path)
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        cmd_read, cmd_write = os.pipe()
        out_read, out_write = os.pipe()

        def child_fds() -> None:  # runs in the child: DevTools reads fd 3, writes fd 4
            a, b = os.dup(cmd_read), os.dup(out_write)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.close(a)
            os.close(b)

        with self._profile() as profile, tempfile.TemporaryFile() as stderr:
            argv = self._argv(profile, width, height, "--remote-debugging-pipe", "about:blank")
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                close_fds=False,
                preexec_fn=child_fds,
                start_new_session=True,
            )
            os.close(cmd_read)
            os.close(out_write)
            pipe = _Pipe(cmd_write, out_read, deadline)
            result = PageRun()
            try:
                targets = pipe.call("Target.getTargets")["targetInfos"]
                page = next(t for t in targets if t.get("type") == "page")
                session = pipe.call(
                    "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}
                )["sessionId"]
                for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
                    pipe.call(domain, session=session)
                for method, params in view.calls() if view else ():
                    pipe.call(method, params, session)
                nav = pipe.call("Page.navigate", {"url": url}, session)
                if nav.get("errorText"):
                    raise BrowserError(f"cannot open {url}: {nav['errorText']}")
                pipe.receive(lambda m: m.get("method") == "Page.loadEventFired", None)
                pipe.drain(settle)
                for script in scripts:
                    reply = pipe.call("Runtime.evaluate", {"expression": script}, session)
                    if "exceptionDetails" in reply:
                        raise BrowserError(f"a script threw: {reply['exceptionDetails']}")
                for name, expression in (expressions or {}).items():
                    reply = pipe.call(
                        "Runtime.evaluate",
                        {"expression": expression, "returnByValue": True, "awaitPromise": True},
                        session,
                    )
                    if "exceptionDetails" in reply:
                        details = reply["exceptionDetails"]
                        text = (details.get("exception") or {}).get("description") or details
                        raise BrowserError(f"expression {name!r} threw: {text}")
                    value = reply.get("result", {}).get("value")
                    if isinstance(value, str):
                        with contextlib.suppress(ValueError):
                            value = json.loads(value)
                    result.values[name] = value
                if png is not None:
                    shot = pipe.call(
                        "Page.captureScreenshot",
                        {"format": "png", "captureBeyondViewport": view is None or view.full},
                        session,
                    )
                    Path(png).write_bytes(base64.b64decode(shot["data"]))
                if pdf is not None:
                    printed = pipe.call("Page.printToPDF", dict(pdf[1]), session)
                    Path(pdf[0]).write_bytes(base64.b64decode(printed["data"]))
                with contextlib.suppress(BrowserError, TimeoutError, OSError):
                    pipe.deadline = min(deadline, time.monotonic() + 5)
                    pipe.call("Browser.close")
            except TimeoutError as exc:
                stderr.seek(0)
                raise BrowserError(
                    f"Chromium did not answer within {limit:.0f}s loading {url}\n"
                    + _tail(stderr.read().decode(errors="replace"))
                ) from exc
            except (BrowserError, OSError, StopIteration) as exc:
                stderr.seek(0)
                raise BrowserError(
                    f"{exc}\n" + _tail(stderr.read().decode(errors="replace"))
                ) from exc
            finally:
                _stop(proc)
                os.close(cmd_write)
                os.close(out_read)
            result.console = _console_messages(pipe.events)
            return result

    def axe(self, html_path: str | os.PathLike[str], view: View | None = None) -> list[dict]:
        """axe-core's violations on the page as shown in ``view``: ``{id, impact, help, nodes}``."""
        source = AXE_JS.read_text(encoding="utf-8")
        run = self.run(
            html_path,
            {"violations": AXE_RUN_JS},
            view=view,
            scripts=(source,),
            timeout=3 * self.timeout,  # axe walks every node: minutes on a loaded machine
        )
        return run.values["violations"]

    def console_messages(self, html_path: str | os.PathLike[str]) -> list[ConsoleMessage]:
        return self.run(html_path).console

    def console_errors(self, html_path: str | os.PathLike[str]) -> list[str]:
        """Console errors, uncaught exceptions and failed loads, as readable strings."""
        return [str(m) for m in self.run(html_path).errors]

    def svg_boxes(
        self, html_path: str | os.PathLike[str], width: int = 1280, height: int = 2000
    ) -> list[dict[str, Any]]:
        """``{index, x, y, width, height, title, parent}`` for every ``<svg>``, in CSS px."""
        return self.run(html_path, {"boxes": SVG_BOXES_JS}, width=width, height=height).values[
            "boxes"
        ]

    def image_stats(self, png_path: str | os.PathLike[str]) -> dict[str, Any]:
        """Decode a PNG in the browser: size, distinct colours, share of the commonest colour.

        A blank or single-colour screenshot is the classic silent failure of a
        rendering test; this tells it apart without a Python image library.
        """
        data = base64.b64encode(Path(png_path).read_bytes()).decode()
        with tempfile.TemporaryDirectory(prefix="pdca-image-") as tmp:
            page = Path(tmp) / "image.html"
            page.write_text(
                '<!doctype html><meta charset="utf-8"><title>image</title>'
                f'<img id="pdca-image" src="data:image/png;base64,{data}">',
                encoding="utf-8",
            )
            return self.run(page, {"stats": IMAGE_STATS_JS}, settle=0).values["stats"]


def _stop(proc: subprocess.Popen) -> None:
    """Wait briefly for our Chromium to exit, then end its process group (ours alone)."""
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _tail(text: str, lines: int = 15) -> str:
    """The end of Chromium's stderr, minus the D-Bus noise of a machine without D-Bus."""
    kept = [line for line in text.splitlines() if "dbus" not in line.lower()]
    return "\n".join(kept[-lines:])


def png_info(path: str | os.PathLike[str]) -> dict[str, int]:
    """Header fields of a PNG, and the size of its decompressed image data.

    Parsing the chunks (``struct``) and inflating the IDAT stream (``zlib``)
    proves the file is a complete PNG of the expected size, not a truncated or
    empty write.
    """
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat, header = 8, bytearray(), None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError(f"{path} has no IHDR chunk")
    width, height, depth, colour_type = header[:4]
    return {
        "width": width,
        "height": height,
        "bit_depth": depth,
        "colour_type": colour_type,
        "raw_bytes": len(zlib.decompress(bytes(idat))),
        "file_bytes": len(data),
    }


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    """Debian's headless Chromium; skips without one (fails instead when ``CI`` is set)."""
    binary = find_chromium()
    if binary is None:
        where = os.environ.get("PDCA_CHROMIUM") or ", ".join(CANDIDATES)
        reason = f"no Chromium found (looked for {where}); {INSTALL_HINT}"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI needs the browser tests: {reason}", pytrace=False)
        pytest.skip(reason)
    return Chromium(binary)


def pytest_report_header(config: pytest.Config) -> str:
    return f"chromium: {find_chromium() or 'not found (browser tests will skip)'}"
