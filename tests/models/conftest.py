"""Fixtures for the model store tests: a tiny Argos package, a real local HTTP server, and a fake of the
remote Hugging Face Hub served by it (the one thing that cannot run here)."""

from __future__ import annotations

import json
import shutil
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


@dataclass
class FakeHub:
    """A FAKE of the remote Hugging Face Hub (unreachable here), served by the real local HTTP server:
    ``api/models/<repo>/revision/<rev>`` (``sha`` + ``siblings``) and ``<repo>/resolve/<rev>/<path>``.

    Branch ``main`` resolves to :attr:`commit`; the repository holds a runnable CTranslate2 model with two
    SentencePiece models, a model card and an ``eole-model/`` training checkpoint that no pack should fetch.
    """

    server: FileServer
    repo: str = "quickmt/quickmt-ja-en"
    commit: str = "0123456789abcdef0123456789abcdef01234567"

    @property
    def files(self) -> Path:
        """The repository's files at :attr:`commit` (edit them to play a changed upstream)."""
        return self.server.root / self.repo / "resolve" / self.commit

    def fetched(self) -> list[str]:
        """Paths the installer requested, in order (API calls included)."""
        return [request["path"] for request in self.server.requests]


#: What runs of the fake hub's repository (the allow-list of a quickmt-style catalogue entry).
FAKE_HUB_RUNTIME_FILES = (
    "model.bin",
    "config.json",
    "shared_vocabulary.json",
    "src.spm.model",
    "tgt.spm.model",
)


@pytest.fixture
def fake_hub(file_server: FileServer, tiny_argos_dir: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    hub = FakeHub(file_server)
    hub.files.mkdir(parents=True)
    for name in ("model.bin", "config.json", "shared_vocabulary.json"):
        shutil.copyfile(tiny_argos_dir / "model" / name, hub.files / name)
    for name in ("src.spm.model", "tgt.spm.model"):
        shutil.copyfile(tiny_argos_dir / "sentencepiece.model", hub.files / name)
    (hub.files / "README.md").write_text("# model card\n")
    (hub.files / "eole-model").mkdir()
    (hub.files / "eole-model" / "model.00.safetensors").write_bytes(b"training checkpoint" * 1000)
    (file_server.root / hub.repo / "resolve" / "main").symlink_to(hub.files)
    siblings = sorted(str(p.relative_to(hub.files)) for p in hub.files.rglob("*") if p.is_file())
    info = json.dumps({"sha": hub.commit, "siblings": [{"rfilename": name} for name in siblings]})
    for revision in ("main", hub.commit):
        listing = file_server.root / "api" / "models" / hub.repo / "revision" / revision
        listing.parent.mkdir(parents=True, exist_ok=True)
        listing.write_text(info)
    monkeypatch.setattr("models.fetch.HF_ENDPOINT", file_server.url)
    return hub
