"""``madoguchi bench terms``: glossary-aware recognition measured per lever on the term-speech set.

Every utterance of ``bench.term_speech`` goes through the product's ASR path (VAD trim, Whisper base,
beam 5, short window) once without and once with hotwords (the encoder output is shared), each
returning the beam's alternatives. From those the levers are scored:

- ``fw-plain``: plain faster-whisper base (``WhisperModel.transcribe``, beam 5, full 30 s window) — the
  reference the product must not fall below;
- ``plain``: the product's ASR, no lever;
- ``hotwords``: the counter's terms as Whisper context;
- ``correction``: term correction by reading on the plain transcript;
- ``rescoring``: the beam alternative with glossary terms preferred (bounded bonus, ``correct_best``);
- ``rescoring+correction``, ``hotwords+correction``: two levers together;
- ``correction+verified``: correction, then acoustic verification of loose term candidates
  (``edge.speech.term_verify``: Whisper's decoder scores each candidate on the same encoder output);
- ``rescoring+correction+verified``: the same after n-best rescoring (the product's default);
- ``all``: hotwords + rescoring + correction.

Per lever: term recall (expected (utterance, term) pairs found in the final transcript by the
glossary matcher), false-term rate (distractor utterances with any term), CER over all utterances
(``bench.scoring``), and the lever's extra latency per turn (median ms). The spoken phrase book is
scored on the same transcripts: the threshold is the lowest similarity above every non-phrase utterance.

Thresholds of the levers are tuned on one half of the set and reported on the other: ``split="tune"`` or
``split="held-out"`` keeps one half (fixed by a hash of the utterance id, about half of each kind).
"""

from __future__ import annotations

import json
import logging
import statistics
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from bench.scoring import corpus_error_rate
from bench.term_speech import TermSpeechSet, Utterance

_LOGGER = logging.getLogger(__name__)

LEVERS: tuple[str, ...] = (
    "fw-plain",
    "plain",
    "hotwords",
    "correction",
    "rescoring",
    "rescoring+correction",
    "hotwords+correction",
    "correction+verified",
    "rescoring+correction+verified",
    "all",
)


SPLITS: tuple[str, ...] = ("tune", "held-out")


def split_of(utterance_id: str) -> str:
    """The half of the set an utterance belongs to (``tune`` or ``held-out``), fixed by its id (another
    voice's rendering of a sentence, ``t008-jf_alpha``, stays in the sentence's half)."""
    return SPLITS[zlib.crc32(utterance_id.split("-")[0].encode("utf-8")) % 2]


@dataclass
class LeverScore:
    """Scores of one lever over the set."""

    lever: str
    expected: int = 0
    found: int = 0
    distractors: int = 0
    false_hits: int = 0
    pairs: list[tuple[str, str]] = field(default_factory=list)
    extra_ms: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The table row."""
        cer = corpus_error_rate(self.pairs, "ja")
        return {
            "lever": self.lever,
            "term_recall": round(self.found / self.expected, 4) if self.expected else None,
            "false_term_rate": round(self.false_hits / self.distractors, 4) if self.distractors else None,
            "cer": round(cer, 4) if cer is not None else None,
            "extra_ms_median": round(statistics.median(self.extra_ms), 1) if self.extra_ms else 0.0,
            "extra_ms_max": round(max(self.extra_ms), 1) if self.extra_ms else 0.0,
            "terms_expected": self.expected,
            "utterances": len(self.pairs),
            "distractors": self.distractors,
        }


def _transcripts(
    utterance: Utterance, audio: Any, tools: _Tools, reference: bool
) -> dict[str, tuple[str, float]]:
    """Each lever's final transcript and its extra latency (ms) for one utterance."""
    from edge.audio.vad import trim_silence
    from edge.errors import NoSpeechError

    asr, hot = tools.asr, tools.hot
    out: dict[str, tuple[str, float]] = {}
    if reference:
        clock = time.perf_counter()
        segments, _ = asr._model.transcribe(audio, language="ja", beam_size=5)
        out["fw-plain"] = ("".join(s.text for s in segments), (time.perf_counter() - clock) * 1000)
    try:
        speech = trim_silence(audio).audio
    except NoSpeechError:  # the counter would say "nothing heard": every lever gets no text
        silent = _text_levers([], [], 0.0, tools.corrector)[0]
        return {**out, **silent, **dict.fromkeys(VERIFIED, ("", 0.0))}
    plain = asr.transcribe(speech, "ja")
    hot._last_encoded = asr._last_encoded  # same audio and window: share the encoder output
    hotwords = hot.transcribe(speech, "ja", reuse_encoding=True)
    hyps = [(plain.text, plain.avg_logprob), *plain.alternatives]
    hot_hyps = [(hotwords.text, hotwords.avg_logprob), *hotwords.alternatives]
    hot_ms = hotwords.timings_ms["decode"] - plain.timings_ms["decode"]
    levers, corrected, both = _text_levers(hyps, hot_hyps, hot_ms, tools.corrector)
    out.update(levers)
    score = partial(asr.score_texts, speech, language="ja")  # the plain decode's encoder output
    verified = tools.verifier.verify(plain.text, corrected.found, score)
    out["correction+verified"] = (verified.text, corrected.elapsed_ms + verified.elapsed_ms)
    verified = tools.verifier.verify(out["rescoring"][0], both.found, score)
    out["rescoring+correction+verified"] = (verified.text, both.elapsed_ms + verified.elapsed_ms)
    return out


#: Levers that score texts against the audio: not replayed from a run's rows.
VERIFIED: tuple[str, ...] = ("correction+verified", "rescoring+correction+verified")


def _text_levers(
    hyps: Sequence[Sequence[Any]], hot_hyps: Sequence[Sequence[Any]], hot_ms: float, corrector: Any
) -> tuple[dict[str, tuple[str, float]], Any, Any]:
    """The levers computed from the recogniser's beams alone (plain and with hotwords; best first), and
    the recognition itself under ``_``-keys, so a later run can replay them (``replay``); with the
    correction of the plain text and the rescoring's (``Corrected``, for verification)."""
    from edge.speech.term_hints import correct_best
    from edge.speech.terms import Corrected

    hyps = [(str(t), float(s)) for t, s in hyps]
    hot_hyps = [(str(t), float(s)) for t, s in hot_hyps]
    out: dict[str, tuple[str, float]] = {
        "_hypotheses": (json.dumps(hyps, ensure_ascii=False), 0.0),
        "_hot_hypotheses": (json.dumps(hot_hyps, ensure_ascii=False), 0.0),
        "_hot_ms": ("", hot_ms),
    }
    if not hyps:
        nothing = Corrected("", (), 0.0)
        return {**out, **{lever: ("", 0.0) for lever in TEXT_LEVERS}}, nothing, nothing
    out["plain"] = (hyps[0][0], 0.0)
    out["hotwords"] = (hot_hyps[0][0] if hot_hyps else "", hot_ms)
    corrected = corrector.correct(hyps[0][0])
    out["correction"] = (corrected.text, corrected.elapsed_ms)
    best, both = correct_best(hyps, corrector)
    out["rescoring"] = (hyps[best][0], both.elapsed_ms)
    out["rescoring+correction"] = (both.text, both.elapsed_ms)
    hot_corrected = corrector.correct(out["hotwords"][0])
    out["hotwords+correction"] = (hot_corrected.text, hot_ms + hot_corrected.elapsed_ms)
    chosen = correct_best(hot_hyps, corrector)[1] if hot_hyps else hot_corrected
    out["all"] = (chosen.text, hot_ms + chosen.elapsed_ms)
    return out, corrected, both


#: Levers ``_text_levers`` computes.
TEXT_LEVERS: tuple[str, ...] = tuple(
    lever for lever in LEVERS if lever != "fw-plain" and lever not in VERIFIED
)


def replayed(row: dict[str, Any], corrector: Any) -> dict[str, tuple[str, float]]:
    """The text levers of one row of an earlier run (``rows_path``), recomputed from its beams: the
    recogniser is deterministic, so changes to correction and rescoring are measured in seconds."""
    hyps = json.loads(row.get("_hypotheses") or "[]")
    hot_hyps = json.loads(row.get("_hot_hypotheses") or "[]")
    return _text_levers(hyps, hot_hyps, float(row.get("_hot_ms") or 0.0), corrector)[0]


@dataclass(frozen=True)
class _Tools:
    """The product's ASR path (plain and with hotwords) and the glossary tools the levers use."""

    asr: Any
    hot: Any
    corrector: Any
    matcher: Any
    phrases: Any
    verifier: Any


def _load_tools(model_dir: Path | None) -> _Tools:
    """The ASR path and the glossary tools (``model_dir`` None: no recogniser, for ``replay``)."""
    from edge.speech.asr import AsrOptions, WhisperTranscriber
    from edge.speech.phrase_match import PhraseMatcher
    from edge.speech.term_hints import hotword_text
    from edge.speech.term_verify import TermVerifier
    from edge.speech.terms import ReadingCorrector
    from glossary import TermMatcher, bundled_glossary

    glossary = bundled_glossary()
    corrector = ReadingCorrector(glossary)
    matcher, phrases = TermMatcher(glossary), PhraseMatcher(glossary)
    if model_dir is None:
        return _Tools(None, None, corrector, matcher, phrases, None)
    asr = WhisperTranscriber(model_dir, AsrOptions(beam_size=5, languages=("ja",), num_hypotheses=5))
    hot = asr.with_options(replace(asr.options, hotwords=hotword_text(glossary)))
    asr.warm()
    verifier = TermVerifier(glossary)
    return _Tools(asr, hot, corrector, matcher, phrases, verifier)


def _replay_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The rows of an earlier run by utterance id (a clear error when the file is not such rows)."""
    try:
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        return {row["id"]: row for row in rows if "_hypotheses" in row}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} holds no rows of a bench terms run (terms_rows.jsonl): {exc}") from exc


def run(
    speech_set: TermSpeechSet,
    model_dir: Path,
    *,
    limit: int | None = None,
    reference: bool = True,
    reference_limit: int | None = None,
    rows_path: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    split: str | None = None,
    voices: Sequence[str] | None = None,
    replay: Path | None = None,
    misses_path: Path | None = None,
    misses_lever: str = "rescoring+correction",
) -> dict[str, Any]:
    """Score every lever on ``speech_set`` (``split``: one half only; ``limit`` utterances per kind; plain
    faster-whisper on the first ``reference_limit`` of each kind only, it is slow; ``voices``: only these
    voices, ``kokoro`` for every Kokoro voice); returns the report.

    ``replay``: the ``rows_path`` of an earlier run; the recogniser is not run, its beams are taken from
    there and only the text levers (``TEXT_LEVERS``) are scored. ``misses_path``: every term
    ``misses_lever`` missed and every false hit, with readings (``bench.term_misses``).
    """
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    earlier = _replay_rows(replay) if replay is not None else None
    tools = _load_tools(None if earlier is not None else model_dir)
    kinds = {
        kind: [u for u in speech_set.of_kind(kind) if _wanted(u, split, voices)][:limit]
        for kind in ("term", "phrase", "distractor")
    }
    utterances = [u for kind in kinds.values() for u in kind]
    if earlier is not None and (absent := [u.id for u in utterances if u.id not in earlier]):
        raise ValueError(
            f"{replay} lacks {len(absent)} utterances ({', '.join(absent[:3])} …): run without replay"
        )
    levers = [lever for lever in LEVERS if (reference and earlier is None) or lever != "fw-plain"]
    levers = [lever for lever in levers if earlier is None or lever in TEXT_LEVERS]
    scores = {voice: {lever: LeverScore(lever) for lever in levers} for voice in ("all", *speech_set.voices)}
    with_reference = {u.id for kind in kinds.values() for u in kind[:reference_limit]}
    rows: list[dict[str, Any]] = []
    for index, utterance in enumerate(utterances):
        if earlier is not None:
            finals = replayed(earlier[utterance.id], tools.corrector)
        else:
            timed = reference and utterance.id in with_reference
            finals = _transcripts(utterance, speech_set.load(utterance), tools, timed)
        rows.append(_utterance_row(utterance, finals, tools, scores))
        if progress is not None:
            progress(index + 1, len(utterances))
    if rows_path is not None:
        rows_path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    if misses_path is not None:
        from bench.term_misses import write_misses

        write_misses(rows, misses_lever, tools.corrector, tools.matcher, misses_path)
    return {
        "set": str(speech_set.directory),
        "replayed": str(replay) if replay is not None else None,
        "split": split or "all",
        "utterances": {
            k: sum(1 for u in utterances if u.kind == k) for k in ("term", "phrase", "distractor")
        },
        "levers": [score.to_dict() for score in scores["all"].values()],
        "voices": {
            voice: [score.to_dict() for score in by_lever.values()]
            for voice, by_lever in scores.items()
            if voice != "all" and any(s.pairs for s in by_lever.values())
        },
        "phrase_book": phrase_threshold(rows),
    }


def _wanted(utterance: Utterance, split: str | None, voices: Sequence[str] | None) -> bool:
    if split is not None and split_of(utterance.id) != split:
        return False
    return voices is None or utterance.voice in voices or ("kokoro" in voices and utterance.voice != "mei")


def _utterance_row(
    utterance: Utterance,
    finals: dict[str, tuple[str, float]],
    tools: _Tools,
    scores: dict[str, dict[str, LeverScore]],
) -> dict[str, Any]:
    """Every lever's transcript of one utterance (scored into ``scores``, overall and per voice) and its
    phrase-book match."""
    row: dict[str, Any] = {
        "id": utterance.id,
        "kind": utterance.kind,
        "voice": utterance.voice,
        "text": utterance.text,
        "phrase_id": utterance.phrase_id,
        "term_ids": list(utterance.term_ids),
    }
    for lever, (text, extra) in finals.items():
        for voice in ("all", utterance.voice):
            if lever in scores[voice]:
                _score(scores[voice][lever], utterance, text, extra, tools.matcher)
        row[lever] = extra if lever == "_hot_ms" else text
    hit = tools.phrases.best(finals["correction"][0])
    row["phrase"] = (hit.phrase_id, round(hit.similarity, 4), hit.tail_ok) if hit else None
    return row


def _score(score: LeverScore, utterance: Utterance, text: str, extra_ms: float, matcher: Any) -> None:
    found = set(matcher.find_ids(text))
    if utterance.term_ids:
        score.expected += len(utterance.term_ids)
        score.found += len(set(utterance.term_ids) & found)
    if utterance.kind == "distractor":
        score.distractors += 1
        score.false_hits += bool(found)
    score.pairs.append((utterance.text, text))
    score.extra_ms.append(extra_ms)


def phrase_threshold(rows: list[dict[str, Any]], margin: float = 0.02) -> dict[str, Any]:
    """The spoken phrase book's threshold chosen on data: just above every non-phrase utterance."""
    phrase_texts = {r["text"] for r in rows if r["kind"] == "phrase"}
    negatives = [
        r["phrase"][1]
        for r in rows
        if r["kind"] != "phrase" and r["phrase"] and r["phrase"][2] and r["text"] not in phrase_texts
    ]
    threshold = min(1.0, max(negatives, default=0.0) + margin)
    positives = [r for r in rows if r["kind"] == "phrase"]
    accepted = [r for r in positives if r["phrase"] and r["phrase"][2] and r["phrase"][1] >= threshold]
    right = [r for r in accepted if r["phrase"][0] == r["phrase_id"]]
    return {
        "threshold": round(threshold, 3),
        "highest_non_phrase_similarity": round(max(negatives, default=0.0), 4),
        "phrases": len(positives),
        "served_verified": len(accepted),
        "served_share": round(len(accepted) / len(positives), 4) if positives else None,
        "served_right_phrase": len(right),
    }


def format_table(report: dict[str, Any]) -> str:
    """The per-lever table as Markdown."""
    lines = [
        f"split: {report.get('split', 'all')}; utterances {report['utterances']}\n",
        "| lever | term recall | false-term rate | CER | extra ms (median / max) | utterances |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["levers"]:
        lines.append(
            f"| {row['lever']} | {row['term_recall']} | {row['false_term_rate']} | {row['cer']} | "
            f"{row['extra_ms_median']} / {row['extra_ms_max']} | {row['utterances']} |"
        )
    voices = report.get("voices", {})
    if len(voices) > 1:
        lines += [
            "",
            "| voice | lever | term recall | false-term rate | CER | utterances |",
            "|---|---|---|---|---|---|",
        ]
        for voice, rows in voices.items():
            lines += [
                f"| {voice} | {r['lever']} | {r['term_recall']} | {r['false_term_rate']} | {r['cer']} | "
                f"{r['utterances']} |"
                for r in rows
            ]
    book = report["phrase_book"]
    lines.append(
        f"\nphrase book: threshold {book['threshold']} "
        f"(highest non-phrase {book['highest_non_phrase_similarity']}); served verified "
        f"{book['served_verified']}/{book['phrases']}, right phrase {book['served_right_phrase']}"
    )
    return "\n".join(lines)
