"""Fixtures for the model store tests: a tiny Argos package and a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.tiny_models import build_tiny_translator, corpus_lines, train_spm, zip_dir


@pytest.fixture(scope="session")
def tiny_argos_dir(tmp_path_factory: pytest.TempPathFactory, eval_dir: Path) -> Path:
    """An extracted Argos package ja→en: metadata.json, sentencepiece.model, model/ (real CTranslate2)."""
    root = tmp_path_factory.mktemp("argos") / "translate-ja_en-1_1"
    root.mkdir()
    vocabulary = train_spm(corpus_lines(eval_dir), root / "sentencepiece.model")
    build_tiny_translator(root / "model", vocabulary)
    metadata = {"package_version": "1.1", "argos_version": "1.5", "from_code": "ja", "from_name": "Japanese",
                "to_code": "en", "to_name": "English"}  # fmt: skip
    (root / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    (root / "README.md").write_text("Tiny test package (random weights).\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def tiny_argosmodel(tiny_argos_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny package zipped as ``translate-ja_en-1_1.argosmodel``."""
    return zip_dir(tiny_argos_dir, tmp_path_factory.mktemp("argoszip") / "translate-ja_en-1_1.argosmodel")


@dataclass
class FileServer:
    """A threaded HTTP server on 127.0.0.1 serving ``root``, with Range support and fault injection."""

    root: Path
    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    drop_after_bytes: int | None = None
    """Close the connection after this many body bytes (once), like a dropped network link."""


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[FileServer]:
    state = FileServer(root=tmp_path / "www")
    state.root.mkdir()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return None

        def do_GET(self) -> None:
            state.requests.append({"path": self.path, "range": self.headers.get("Range", "")})
            path = state.root / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            start = 0
            header = self.headers.get("Range", "")
            if header.startswith("bytes="):
                start = int(header.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if state.drop_after_bytes is not None:
                cut, state.drop_after_bytes = state.drop_after_bytes, None
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
