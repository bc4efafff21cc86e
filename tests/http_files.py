"""A local HTTP server on 127.0.0.1 with byte ranges (how uproot reads remote files)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _handler(root: Path) -> type[BaseHTTPRequestHandler]:
    class RangeHandler(BaseHTTPRequestHandler):
        """GET/HEAD of files under ``root``, honouring single ``Range: bytes=a-b`` requests."""

        def _target(self) -> Path | None:
            path = (root / self.path.lstrip("/").split("?")[0]).resolve()
            return path if path.is_file() and root.resolve() in path.parents else None

        def do_HEAD(self) -> None:
            self._respond(body=False)

        def do_GET(self) -> None:
            self._respond(body=True)

        def _respond(self, *, body: bool) -> None:
            path = self._target()
            if path is None:
                self.send_error(404)
                return
            data = path.read_bytes()
            match = _RANGE.fullmatch(self.headers.get("Range", ""))
            start, stop = 0, len(data)
            if match:
                first, last = match.groups()
                if first:
                    start, stop = int(first), min(int(last) + 1 if last else len(data), len(data))
                else:
                    start = max(len(data) - int(last), 0)
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(stop - start))
            self.end_headers()
            if body:
                self.wfile.write(data[start:stop])

        def log_message(self, *args: object) -> None:
            pass

    return RangeHandler


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free port of 127.0.0.1; yield the base URL (``http://127.0.0.1:N``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
