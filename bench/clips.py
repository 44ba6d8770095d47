"""Evaluation clips of the latency benchmark: the shared speech set (``MANIFEST.tsv``) or a bundled sample.

Full runs use the larger evaluation data beside the repository clone (``<repo>/../shared/eval``) when it is
there; ``--eval-dir`` or ``MADOGUCHI_EVAL_DIR`` points elsewhere. The quick mode runs on the repository's
own clips (``tests/data``) or, outside a clone, on the Japanese sample that ships in ``edge/samples``.
Results name the set their figures came from.

    clips = select_clips(load_manifest(resolve_eval_dir()), ClipSelection(max_per_language=4))
"""

from __future__ import annotations

import csv
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.processes import REPO_ROOT
from glossary.languages import COUNTER_LANGUAGES

_LOGGER = logging.getLogger(__name__)

EVAL_DIR_ENV = "MADOGUCHI_EVAL_DIR"
REPO_EVAL_DIR = REPO_ROOT / "tests" / "data"
BUNDLED_SAMPLE = REPO_ROOT / "edge" / "samples" / "ja_common_voice_19482480.mp3"
BUNDLED_REFERENCE = "木村さんはわたしに写真を見せてくれました。"
#: Short real clips used by ``--quick`` (file names in the manifest), in order of preference.
QUICK_FILES = ("common_voice_ja_19482480.mp3", "librispeech_1089-134686-0001.wav")


@dataclass(frozen=True)
class Clip:
    """One recorded utterance with its reference transcript.

    Attributes:
        name: File name relative to the speech directory.
        path: The audio file.
        language: Main spoken language (ISO 639-1; the first of ``ja+en``).
        languages: Every language spoken in the clip.
        duration_s: Duration from the manifest (seconds).
        reference: Reference transcript ("" when none).
        synthetic: Probably synthetic speech: timing only, never an accuracy figure.
        note: The manifest's note.
    """

    name: str
    path: Path
    language: str
    languages: tuple[str, ...]
    duration_s: float
    reference: str
    synthetic: bool = False
    note: str = ""

    @property
    def mixed(self) -> bool:
        """True for code-switched clips (``ja+en``)."""
        return len(self.languages) > 1

    @property
    def multi_utterance(self) -> bool:
        """True for clips the manifest notes as several utterances (one turn each is not expected)."""
        return "concatenated" in self.note or "utterances" in self.note

    @property
    def scored(self) -> bool:
        """True when the clip counts in accuracy figures (real speech with a reference)."""
        return bool(self.reference) and not self.synthetic

    def load(self) -> np.ndarray:
        """16 kHz mono float32 samples (decoded with the edge's own audio loader)."""
        from edge.audio.decode import load_audio

        return load_audio(self.path)


def resolve_eval_dir(explicit: Path | None = None, *, quick: bool = False) -> Path:
    """``explicit``, else ``$MADOGUCHI_EVAL_DIR``, else (``quick``) the repository's ``tests/data``,
    else ``<repo>/../shared/eval`` (either may not exist)."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get(EVAL_DIR_ENV)
    if env:
        return Path(env)
    if quick:
        return REPO_EVAL_DIR
    return REPO_ROOT.parent / "shared" / "eval"


def load_manifest(eval_dir: Path) -> list[Clip]:
    """Every clip of ``<eval_dir>/speech/MANIFEST.tsv`` whose file exists ([] when there is no manifest)."""
    speech = Path(eval_dir) / "speech"
    manifest = speech / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    clips: list[Clip] = []
    with manifest.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            name = (row.get("file") or "").strip()
            path = speech / name
            if not name or not path.is_file():
                continue
            languages = tuple(part.strip() for part in (row.get("lang") or "").split("+") if part.strip())
            if not languages:
                continue
            note = (row.get("note") or "").strip()
            clips.append(
                Clip(
                    name=name,
                    path=path,
                    language=languages[0],
                    languages=languages,
                    duration_s=float(row.get("duration_s") or 0.0),
                    reference=(row.get("reference") or "").strip(),
                    synthetic="synthetic" in note.lower() or name.startswith("smoke_synthetic/"),
                    note=note,
                )
            )
    return clips


def bundled_clip() -> Clip:
    """The Japanese Common Voice sample shipped with the edge (always available)."""
    return Clip(
        name=BUNDLED_SAMPLE.name,
        path=BUNDLED_SAMPLE,
        language="ja",
        languages=("ja",),
        duration_s=5.67,
        reference=BUNDLED_REFERENCE,
        note="bundled sample (edge/samples)",
    )


@dataclass(frozen=True)
class ClipSelection:
    """Which clips a run uses.

    Attributes:
        max_duration_s: Longer clips are skipped (seconds; a counter turn is short).
        min_duration_s: Shorter clips are skipped (seconds).
        max_per_language: At most this many clips per main language (count; real clips first).
        include_synthetic: Keep the probably-synthetic Japanese/Chinese smoke clips (timing only).
        max_synthetic_per_language: At most this many of those per language (count).
        names: Only these file names (empty = no filter).
    """

    max_duration_s: float = 16.0
    min_duration_s: float = 1.0
    max_per_language: int = 3
    include_synthetic: bool = True
    max_synthetic_per_language: int = 1
    names: tuple[str, ...] = ()


def select_clips(clips: list[Clip], selection: ClipSelection = ClipSelection()) -> list[Clip]:
    """Counter-language clips within the duration bounds, shortest first, at most N per language.

    Synthetic clips are kept only for Japanese and Chinese (few real clips there) and only when asked.
    """
    wanted = set(selection.names)
    per_language: dict[str, list[Clip]] = defaultdict(list)
    for clip in sorted(clips, key=lambda c: (c.synthetic, c.duration_s, c.name)):
        if wanted and clip.name not in wanted:
            continue
        if clip.language not in COUNTER_LANGUAGES:
            continue
        if not selection.min_duration_s <= clip.duration_s <= selection.max_duration_s and not wanted:
            continue
        synthetic_unwanted = not selection.include_synthetic or clip.language not in ("ja", "zh")
        if clip.synthetic and not wanted and synthetic_unwanted:
            continue
        per_language[clip.language].append(clip)
    selected: list[Clip] = []
    for language in COUNTER_LANGUAGES:
        clips_of = per_language.get(language, [])
        if wanted:
            selected.extend(clips_of)
            continue
        real = [c for c in clips_of if not c.synthetic][: selection.max_per_language]
        synthetic = [c for c in clips_of if c.synthetic][: selection.max_synthetic_per_language]
        selected.extend(real + synthetic)
    return selected


def quick_clips(eval_dir: Path) -> list[Clip]:
    """Two short real clips (ja → en with speech out, en → ja text out), or the bundled sample."""
    by_name = {clip.name: clip for clip in load_manifest(eval_dir)}
    chosen = [by_name[name] for name in QUICK_FILES if name in by_name]
    if not chosen:
        _LOGGER.info("no evaluation data in %s; using the bundled sample clip", eval_dir)
        return [bundled_clip()]
    return chosen
