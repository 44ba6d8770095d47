"""The term-speech test set: synthetic Japanese counter speech with glossary terms, and look-alikes.

``build()`` makes (or finds in its cache) a set of utterances:

- **term**: every sentence of ``bench/data/term_sentences_*.tsv`` that contains glossary terms (counter
  wording, several terms per domain; 335 sentences);
- **phrase**: every phrase-book sentence (for the spoken phrase book's threshold);
- **distractor**: sentences built from look-alike words (自動, 十, 保健室, 番号 …) that hold no glossary
  term (checked with the matcher), seeded; 240 (about 120 per half, so a 1 % false-term rate is
  measured on more than one utterance per half).

Each is spoken by OpenJTalk's HTS voice "Mei" (pyopenjtalk-plus, CC BY 3.0) with a seeded speed (0.85–1.2)
and pitch shift (−3…+3 half tones), resampled to 16 kHz; most get real background babble — speech of
other languages from ``tests/data/speech`` — at 10–20 dB SNR, and a quarter go through a telephone
channel (300–3400 Hz, 8 kHz, 8-bit μ-law). The audio lands in a cache directory (never in git), keyed by
the generator's version and inputs; ``build()`` on a clean clone rebuilds it identically.

Given a pack store with the Kokoro-82M packs (``madoguchi models install kokoro-82m-v1.0-int8
kokoro-ja-jf_alpha kokoro-ja-jm_kumo``), ``build(kokoro_store=...)`` adds a second rendering of every
``KOKORO_EVERY``-th term and distractor sentence by the Kokoro voices jf_alpha (female) and jm_kumo (male)
in turn, with the same kinds of speed, noise and telephone variation (ids ``t008-jf_alpha``; files under
``kokoro/`` of the set). Kokoro is slow on two cores, so only part of the set gets it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from random import Random
from typing import Any, Final

import numpy as np

from bench.term_accuracy import default_sentence_files, read_sentences

_LOGGER = logging.getLogger(__name__)

VERSION: Final = 1
SAMPLE_RATE: Final = 16000
DEFAULT_CACHE: Final = Path.home() / ".cache" / "madoguchi" / "term-speech"
REPO_DIR: Final = Path(__file__).resolve().parents[1]
NOISE_CLIPS: Final = (
    "fleurs-en-003.ogg",
    "fleurs-es-006.ogg",
    "fleurs-pt-002.ogg",
    "librispeech-1995-1837-0001.wav",
    "aishell-BAC009S0724W0121.wav",
)

#: Words that sound or look like glossary terms but are none, and frames to put them in.
LOOKALIKES: Final = (
    "自動ドア",
    "自動車",
    "自動販売機",
    "十人",
    "住所録",
    "表彰状",
    "保健室",
    "保険会社の広告",
    "番号札",
    "電話番号",
    "手当て",
    "応急手当て",
    "転勤",
    "出勤",
    "証明写真",
    "税関",
    "年金制度の本",
    "学童保育の先生",
    "国民的な歌手",
    "健康食品",
    "ゴミ袋の色",
    "分別のある人",
    "避難訓練の話",
    "地元の祭り",
    "在留外国人の友達",
    "住宅ローン",
    "予防の話",
    "検査結果",
    "入学式の写真",
    "給食のメニュー",
    "就職活動",
    "子どもの遊び場",
    "市役所の駐車場",
    "図書館のカード",
    "ポイントカード",
    "クレジットカード",
    "印鑑ケース",
    "窓口の椅子",
    "母の日のプレゼント",
    "出張の予定",
)
FRAMES: Final = (
    "{w}について少しお聞きしたいんですが。",
    "昨日、{w}のことで友達と話しました。",
    "{w}はどこにありますか。",
    "すみません、{w}を見ませんでしたか。",
    "{w}がとても気になっています。",
    "来週、{w}の件でまた来ます。",
    "{w}の写真を撮ってもいいですか。",
)


@dataclass(frozen=True)
class Utterance:
    """One synthetic utterance of the set (``path`` relative to the set's directory)."""

    id: str
    kind: str
    text: str
    term_ids: tuple[str, ...]
    phrase_id: str
    path: str
    speed: float
    half_tone: float
    snr_db: float | None
    telephone: bool
    voice: str = "mei"

    def to_row(self) -> dict[str, Any]:
        """One line of ``manifest.jsonl``."""
        row = asdict(self)
        row["term_ids"] = list(self.term_ids)
        return row


@dataclass(frozen=True)
class TermSpeechSet:
    """A built set: its directory and utterances."""

    directory: Path
    utterances: tuple[Utterance, ...]

    def load(self, utterance: Utterance) -> np.ndarray:
        """16 kHz mono float32 samples of one utterance."""
        from edge.audio.decode import load_audio

        return load_audio(self.directory / utterance.path)

    def of_kind(self, kind: str) -> list[Utterance]:
        """The utterances of one kind (``term``, ``phrase`` or ``distractor``)."""
        return [u for u in self.utterances if u.kind == kind]

    @property
    def voices(self) -> list[str]:
        """The voices speaking in the set (``mei`` first)."""
        return sorted({u.voice for u in self.utterances}, key=lambda v: (v != "mei", v))


def distractor_sentences(glossary: Any, count: int = 240, seed: int = 19) -> list[str]:
    """``count`` look-alike sentences without any glossary term (seeded; a larger count keeps the smaller
    count's sentences first, so their audio stays the same)."""
    from glossary.match import TermMatcher

    matcher = TermMatcher(glossary)
    rng = Random(seed)
    pairs = [(w, f) for w in LOOKALIKES for f in FRAMES]
    rng.shuffle(pairs)
    out: list[str] = []
    for word, frame in pairs:
        text = frame.format(w=word)
        if not matcher.find(text) and text not in out:
            out.append(text)
        if len(out) >= count:
            break
    return out


def _texts(glossary: Any, distractors: int) -> list[tuple[str, str, tuple[str, ...], str]]:
    """(id, kind, text, term ids, phrase id) of every utterance, in a fixed order."""
    from glossary.match import TermMatcher

    items: list[tuple[str, str, tuple[str, ...], str]] = []
    for sentence in read_sentences_all(default_sentence_files()):
        if sentence.term_ids:
            items.append(("term", sentence.ja, tuple(sentence.term_ids), ""))
    matcher = TermMatcher(glossary)
    for phrase in sorted(glossary.phrases.values(), key=lambda p: p.id):
        items.append(("phrase", phrase.ja, tuple(matcher.find_ids(phrase.ja)), phrase.id))
    for text in distractor_sentences(glossary, distractors):
        items.append(("distractor", text, (), ""))
    return items


def read_sentences_all(paths: Iterable[Path]) -> list[Any]:
    """The term sentences of every file."""
    return [s for path in paths for s in read_sentences(path)]


def _resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """FFT resampling (band-limited) of a mono signal."""
    if rate == target:
        return audio
    n_out = round(audio.size * target / rate)
    spectrum = np.fft.rfft(audio)
    keep = n_out // 2 + 1
    if keep <= spectrum.size:
        spectrum = spectrum[:keep]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(keep - spectrum.size, dtype=spectrum.dtype)])
    return np.fft.irfft(spectrum, n_out) * (n_out / audio.size)


def telephone(audio: np.ndarray) -> np.ndarray:
    """300–3400 Hz, down to 8 kHz, 8-bit μ-law, and back to 16 kHz."""
    spectrum = np.fft.rfft(audio)
    freqs = np.fft.rfftfreq(audio.size, 1 / SAMPLE_RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    narrow = _resample(np.fft.irfft(spectrum, audio.size), SAMPLE_RATE, 8000)
    peak = float(np.max(np.abs(narrow))) or 1.0
    x = np.clip(narrow / peak, -1, 1)
    mu = 255.0
    coded = np.round(np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu) * 127) / 127
    decoded = np.sign(coded) * np.expm1(np.abs(coded) * np.log1p(mu)) / mu * peak
    return _resample(decoded, 8000, SAMPLE_RATE)


def add_noise(speech: np.ndarray, noise: np.ndarray, snr_db: float, rng: Random) -> np.ndarray:
    """``speech`` with a random stretch of ``noise`` at ``snr_db`` (power ratio)."""
    if noise.size < speech.size:
        noise = np.tile(noise, speech.size // noise.size + 1)
    start = rng.randrange(0, noise.size - speech.size + 1)
    piece = noise[start : start + speech.size]
    p_speech = float(np.mean(speech**2)) or 1e-9
    p_noise = float(np.mean(piece**2)) or 1e-9
    return speech + piece * np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))


def _noise_bed() -> np.ndarray:
    """Real speech of other languages from the repository's test clips, joined (babble)."""
    from edge.audio.decode import load_audio

    speech_dir = REPO_DIR / "tests" / "data" / "speech"
    clips = [load_audio(speech_dir / name) for name in NOISE_CLIPS if (speech_dir / name).is_file()]
    if not clips:
        raise FileNotFoundError(f"no noise clips in {speech_dir}")
    # Two talkers at once make babble rather than one intelligible voice.
    first = np.concatenate(clips)
    second = np.roll(first, first.size // 3)
    return (first + second).astype(np.float64)


def synthesize(text: str, speed: float, half_tone: float) -> np.ndarray:
    """Mei's voice at 16 kHz, float in -1..1."""
    import pyopenjtalk

    wave, rate = pyopenjtalk.tts(text, speed=speed, half_tone=half_tone)
    wave = np.asarray(wave, dtype=np.float64) / 32768.0
    return _resample(wave, rate, SAMPLE_RATE)


def _key(items: list[tuple[str, str, tuple[str, ...], str]], seed: int) -> str:
    digest = hashlib.sha256(json.dumps([VERSION, seed, items], ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:16]


def build(
    cache_dir: Path = DEFAULT_CACHE, *, distractors: int = 240, seed: int = 19, kokoro_store: Any = None
) -> TermSpeechSet:
    """The term-speech set, synthesised into ``cache_dir/<key>/`` unless already there (with the Kokoro
    renderings too when ``kokoro_store`` holds the Kokoro packs)."""
    mei = _build_mei(cache_dir, distractors, seed)
    if kokoro_store is None:
        return mei
    return _with_kokoro(mei, kokoro_store, seed)


def _build_mei(cache_dir: Path, distractors: int, seed: int) -> TermSpeechSet:
    from edge.audio.decode import write_wav
    from glossary import bundled_glossary

    glossary = bundled_glossary()
    items = _texts(glossary, distractors)
    directory = cache_dir / _key(items, seed)
    manifest = directory / "manifest.jsonl"
    if manifest.is_file():
        return _read(directory)
    tmp = directory.with_name(directory.name + ".partial")
    (tmp / "audio").mkdir(parents=True, exist_ok=True)
    noise = _noise_bed()
    rng = Random(seed)
    counters: dict[str, int] = {}
    rows = []
    for kind, text, term_ids, phrase_id in items:
        counters[kind] = counters.get(kind, 0) + 1
        uid = f"{kind[0]}{counters[kind]:03d}"
        speed, half_tone = rng.choice((0.85, 1.0, 1.1, 1.2)), rng.choice((-3.0, -1.5, 0.0, 1.5, 3.0))
        snr = rng.uniform(10, 20) if rng.random() < 0.75 else None
        phone = rng.random() < 0.25
        pcm = _degrade(synthesize(text, speed, half_tone), noise, snr, phone, rng)
        write_wav(tmp / "audio" / f"{uid}.wav", pcm, SAMPLE_RATE)
        snr_value = round(snr, 1) if snr is not None else None
        path = f"audio/{uid}.wav"
        rows.append(Utterance(uid, kind, text, term_ids, phrase_id, path, speed, half_tone, snr_value, phone))
    with (tmp / "manifest.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row.to_row(), ensure_ascii=False) + "\n")
    tmp.rename(directory)
    _LOGGER.info("term-speech set: %d utterances in %s", len(rows), directory)
    return _read(directory)


#: Every n-th sentence of a kind also spoken by a Kokoro voice (0: none).
KOKORO_EVERY: Final = {"term": 20, "phrase": 0, "distractor": 10}
KOKORO_VOICES: Final = ("kokoro-ja-jf_alpha", "kokoro-ja-jm_kumo")


def kokoro_voices(store: Any) -> list[Any]:
    """The Kokoro Japanese voices of ``store`` (``KOKORO_VOICES``), loaded.

    Raises:
        EngineUnavailable: a pack is not installed (the message says how to install it).
    """
    from edge.errors import EngineUnavailable
    from edge.speech.voices.kokoro import KokoroSynthesizer, kokoro_voice_ref
    from models.errors import PackNotInstalled

    voices = []
    for pack_id in KOKORO_VOICES:
        try:
            pack = store.get(pack_id)
        except PackNotInstalled as exc:
            raise EngineUnavailable(
                f"{pack_id} is not installed: madoguchi models install kokoro-82m-v1.0-int8 "
                + " ".join(KOKORO_VOICES)
            ) from exc
        voices.append(KokoroSynthesizer.from_ref(kokoro_voice_ref(store, pack, "ja")))
    return voices


def _with_kokoro(mei: TermSpeechSet, store: Any, seed: int) -> TermSpeechSet:
    """``mei`` plus the Kokoro renderings, synthesised into ``<set>/kokoro/`` unless already there."""
    from edge.audio.decode import write_wav
    from edge.speech.tts import TtsOptions

    directory = mei.directory / "kokoro"
    if not (directory / "manifest.jsonl").is_file():
        voices = kokoro_voices(store)
        tmp = directory.with_name("kokoro.partial")
        (tmp / "audio").mkdir(parents=True, exist_ok=True)
        noise, rng, rows = _noise_bed(), Random(seed + 1), []
        chosen = [
            u for kind, every in KOKORO_EVERY.items() if every for u in mei.of_kind(kind)[every - 1 :: every]
        ]
        for index, source in enumerate(chosen):
            voice = voices[index % len(voices)]
            speed = rng.choice((0.9, 1.0, 1.1))
            wave = b"".join(c.pcm for c in voice.synthesize(source.text, TtsOptions(length_scale=1 / speed)))
            audio = np.frombuffer(wave, dtype="<i2").astype(np.float64) / 32768.0
            audio = _resample(audio, voice.sample_rate, SAMPLE_RATE)
            snr = rng.uniform(10, 20) if rng.random() < 0.75 else None
            phone = rng.random() < 0.25
            pcm = _degrade(audio, noise, snr, phone, rng)
            name = voice.name.removeprefix("kokoro-ja-")
            uid = f"{source.id}-{name}"
            write_wav(tmp / "audio" / f"{uid}.wav", pcm, SAMPLE_RATE)
            snr_value = round(snr, 1) if snr is not None else None
            rows.append(
                replace(source, id=uid, path=f"kokoro/audio/{uid}.wav", speed=speed, half_tone=0.0,
                        snr_db=snr_value, telephone=phone, voice=name)
            )  # fmt: skip
        with (tmp / "manifest.jsonl").open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row.to_row(), ensure_ascii=False) + "\n")
        tmp.rename(directory)
    extra = _read(directory).utterances
    return TermSpeechSet(mei.directory, mei.utterances + extra)


def _degrade(audio: np.ndarray, noise: np.ndarray, snr: float | None, phone: bool, rng: Random) -> np.ndarray:
    """Noise at ``snr`` dB (None: none), the telephone channel, peak-limited 16-bit samples."""
    if snr is not None:
        audio = add_noise(audio, noise, snr, rng)
    if phone:
        audio = telephone(audio)
    audio = audio / max(1.0, float(np.max(np.abs(audio))) / 0.9)
    return (np.clip(audio, -1, 1) * 32767).astype(np.int16)


def _read(directory: Path) -> TermSpeechSet:
    rows = []
    with (directory / "manifest.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            data = json.loads(line)
            data["term_ids"] = tuple(data["term_ids"])
            rows.append(Utterance(**data))
    return TermSpeechSet(directory, tuple(rows))


def real_term_clips() -> list[tuple[str, str, list[str]]]:
    """(file, reference, term ids) of the repository's real Japanese recordings that contain a term."""
    from glossary import TermMatcher, bundled_glossary

    matcher = TermMatcher(bundled_glossary())
    manifest = REPO_DIR / "tests" / "data" / "speech" / "MANIFEST.tsv"
    found = []
    with manifest.open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            if row.get("lang", "").startswith("ja"):
                ids = matcher.find_ids(row.get("reference", ""))
                if ids:
                    found.append((row["file"], row["reference"], ids))
    return found
