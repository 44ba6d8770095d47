"""Finding and loading the engines of a counter from the model pack store.

The store (``models.PackStore``) knows which packs are installed; this module turns them into loaded
engines: the Whisper recogniser, one voice per language (Piper, OpenJTalk or Kokoro packs, else the
espeak-ng machine voice where IT allows it), the MT router. Two settings override the store for
development and for sites that manage models by hand: ``asr_model_dir`` (a faster-whisper directory) and
``voice_files`` (Piper ``.onnx`` files, language read from their ``.onnx.json``).

``edge.translate.router`` and the glossary are optional here: when they are absent, the pipeline has no
MT packs and falls back as documented in ``edge.turn.translate``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from edge.config import EdgeSettings
from edge.errors import EngineUnavailable
from edge.speech.asr import AsrOptions, WhisperTranscriber
from edge.speech.tts import Synthesizer, voice_language
from edge.speech.voices import ESPEAK_ENGINE, PREFERRED_VOICES, VoiceRef
from edge.speech.voices import load_voice as _load_voice

__all__ = ["VoiceRef", "find_voices", "load_voice", "open_store"]

_LOGGER = logging.getLogger(__name__)


def open_store(settings: EdgeSettings) -> Any | None:
    """The pack store of ``settings`` (None when the models package is unavailable)."""
    try:
        from models.registry import PackStore
    except ImportError:
        _LOGGER.debug("models.registry unavailable; no pack store")
        return None
    store = PackStore(settings.store_dir)
    try:  # finish or undo what an interrupted install left behind (a power cut mid-update)
        store.clean_leftovers()
    except OSError as exc:
        _LOGGER.warning("cannot tidy the pack store %s: %s", store.root, exc)
    return store


def asr_model_dir(settings: EdgeSettings, store: Any | None = None) -> tuple[Path, str]:
    """The faster-whisper directory to load and its pack id.

    Raises:
        EngineUnavailable: the ASR pack is not installed or fails its size check.
    """
    if settings.asr_model_dir is not None:
        return settings.asr_model_dir, settings.asr_model_dir.name
    store = store if store is not None else open_store(settings)
    hint = f"run `madoguchi models install {settings.asr_pack}`"
    if store is None:
        raise EngineUnavailable(f"no ASR model: the model store is unavailable; {hint}")
    from models.errors import ModelPackError

    try:
        pack = store.get(settings.asr_pack)
    except ModelPackError as exc:
        raise EngineUnavailable(f"ASR pack '{settings.asr_pack}' is not installed; {hint}") from exc
    try:
        from models.registry import verify_installed

        verify_installed(pack)  # sizes on every start, every sha256 on the first start after install
    except ModelPackError as exc:
        raise EngineUnavailable(str(exc)) from exc
    return pack.model_dir, pack.id


def find_voices(settings: EdgeSettings, store: Any | None = None) -> dict[str, VoiceRef]:
    """One voice per enabled language that has one: hand-placed ``voice_files`` first, then packs in
    ``PREFERRED_VOICES`` order, then the espeak-ng machine voice for ``fallback_voice_languages``."""
    voices: dict[str, VoiceRef] = {}
    store = store if store is not None else open_store(settings)
    if store is not None:
        for language in settings.languages:
            for pack in _preferred(store.find("tts", language), language):
                ref = _pack_voice(store, pack, language)
                if ref is not None:
                    voices.setdefault(language, ref)
    for path in settings.voice_files:
        config = path.with_name(path.name + ".json")
        try:
            language = voice_language(config)
        except EngineUnavailable as exc:
            _LOGGER.warning("skipping voice file %s: %s", path, exc)
            continue
        if language in settings.languages:
            voices[language] = VoiceRef(language, path, config, path.name.removesuffix(".onnx"))
    voices.update(_fallback_voices(settings, voices))
    return voices


def _preferred(packs: list[Any], language: str) -> list[Any]:
    order = PREFERRED_VOICES.get(language, ())
    return sorted(packs, key=lambda pack: order.index(pack.id) if pack.id in order else len(order))


def _pack_voice(store: Any, pack: Any, language: str) -> VoiceRef | None:
    """The voice of an installed tts pack, or None when it is not a voice or fails its check."""
    if pack.spec.format == "kokoro-onnx":
        return None  # the shared Kokoro model: voices are the kokoro-voice packs that use it
    try:
        from models.registry import verify_installed

        verify_installed(pack)  # a corrupt voice is skipped: that language is text-only
        licence = pack.spec.license
        common = {"pack_id": pack.id, "attribution": licence.attribution, "license": licence.spdx}
        if pack.spec.engine == "openjtalk":
            return VoiceRef(language, pack.runtime_path("voice_file"), None, engine="openjtalk", **common)
        if pack.spec.engine == "kokoro":
            from edge.speech.voices.kokoro import kokoro_voice_ref

            return kokoro_voice_ref(store, pack, language)
        model = pack.runtime_path("model_file")
        config = (
            pack.runtime_path("config_file")
            if "config_file" in pack.spec.runtime
            else model.with_name(model.name + ".json")
        )
        return VoiceRef(language, model, config, **common)
    except Exception as exc:  # a broken manifest must not stop the counter
        _LOGGER.warning("skipping voice pack %s: %s", pack.id, exc)
        return None


def _fallback_voices(settings: EdgeSettings, voices: dict[str, VoiceRef]) -> dict[str, VoiceRef]:
    """The espeak-ng machine voice for enabled languages IT allows it for and no pack speaks."""
    wanted = [
        lang
        for lang in settings.fallback_voice_languages
        if lang in settings.languages and lang not in voices
    ]
    if not wanted:
        return {}
    from edge.speech.voices.espeak import ESPEAK_ATTRIBUTION, ESPEAK_VOICES, espeak_binary

    if espeak_binary() is None:
        _LOGGER.warning("espeak-ng is not installed: %s stay text-only", ", ".join(wanted))
        return {}
    return {
        lang: VoiceRef(
            lang,
            None,
            None,
            ESPEAK_ENGINE,
            engine=ESPEAK_ENGINE,
            attribution=ESPEAK_ATTRIBUTION,
            license="GPL-3.0-or-later",
        )
        for lang in wanted
        if lang in ESPEAK_VOICES
    }


def device_pack_report(settings: EdgeSettings, store: Any) -> dict[str, Any]:
    """For the heartbeat (the console's packs page): installed packs as id-shaped facts (kind, languages,
    directions, SPDX licence), the espeak-ng machine voice where it speaks, and the enabled languages."""
    packs: list[dict[str, Any]] = []
    for pack in store.installed() if store is not None else []:
        spec = pack.spec
        if spec.format == "kokoro-onnx":
            continue  # the shared Kokoro model: its voices are reported
        packs.append(
            {
                "id": spec.id,
                "kind": spec.kind,
                "languages": list(spec.languages)[:120],
                "directions": None if spec.directions is None else [list(d) for d in spec.directions][:200],
                "license": spec.license.spdx,
            }
        )
    machine = sorted(lang for lang, ref in find_voices(settings, store).items() if ref.machine)
    if machine:
        packs.append(
            {
                "id": ESPEAK_ENGINE,
                "kind": "tts",
                "languages": machine,
                "license": "GPL-3.0-or-later",
                "machine_voice": True,
            }
        )
    return {"packs": packs[:100], "languages": list(settings.languages)}


def load_transcriber(
    settings: EdgeSettings, store: Any | None = None, *, loaded: WhisperTranscriber | None = None
) -> tuple[WhisperTranscriber, str]:
    """Load the recogniser of ``settings`` (language ID restricted to the enabled languages).

    ``loaded``: the same model already loaded in this process (e.g. one Whisper shared by several
    counters or pipelines): it is reused with the decoding options of ``settings`` (no second copy in
    memory); its threads and compute type stay those it was loaded with.

    Raises:
        EngineUnavailable: the ASR pack is not installed or fails its size check.
        ValueError: ``loaded`` is another model than the one ``settings`` names.
    """
    model_dir, pack_id = asr_model_dir(settings, store)
    options = AsrOptions(
        beam_size=settings.beam_size,
        compute_type=settings.compute_type,
        cpu_threads=settings.cpu_threads,
        languages=tuple(settings.languages),
        short_window=settings.short_window,
        min_window_s=settings.min_window_s,
    )
    if loaded is None:
        return WhisperTranscriber(model_dir, options), pack_id
    if Path(loaded.model_dir).resolve() != Path(model_dir).resolve():
        raise ValueError(f"the loaded recogniser is {loaded.model_dir}, but the settings name {model_dir}")
    model_level = {"compute_type": loaded.options.compute_type, "cpu_threads": loaded.options.cpu_threads}
    return loaded.with_options(replace(options, **model_level)), pack_id


def load_voice(ref: VoiceRef, glossary: Any | None = None) -> Synthesizer:
    """Load one voice (``glossary``: the readings a Japanese voice uses for the city's terms)."""
    return _load_voice(ref, glossary=glossary)


def load_glossary() -> Any | None:
    """The bundled glossary, or None when the glossary package cannot provide one."""
    try:
        from glossary import bundled_glossary
    except ImportError:
        return None
    try:
        return bundled_glossary()
    except Exception as exc:  # the glossary is an aid: a broken one must not stop translation
        _LOGGER.warning("glossary unavailable: %s", exc)
        return None


def load_mt_router(settings: EdgeSettings, store: Any | None, glossary: Any | None) -> Any | None:
    """The MT router over the store, or None when ``edge.translate.router`` or the store is unavailable."""
    if store is None:
        return None
    try:
        from edge.translate.router import MtOptions, MtRouter
    except ImportError as exc:
        _LOGGER.debug("edge.translate.router unavailable: %s", exc)
        return None
    options = MtOptions(intra_threads=settings.cpu_threads, compute_type=settings.compute_type)
    return MtRouter(_without_corrupt_mt(store), options, glossary=glossary)


def _without_corrupt_mt(store: Any) -> Any:
    """The store minus MT packs that fail the start-up check (a corrupt pair then works as a missing one)."""
    from models.errors import ModelPackError
    from models.registry import PackStore, verify_installed

    corrupt: set[str] = set()
    for pack in store.find("mt"):
        try:
            verify_installed(pack)
        except ModelPackError as exc:
            _LOGGER.error("%s; translation through it is off until then", exc)
            corrupt.add(pack.id)
    if not corrupt:
        return store

    class _Checked(PackStore):
        def installed(self) -> list[Any]:
            return [pack for pack in super().installed() if pack.id not in corrupt]

    return _Checked(store.root)


def term_levers(settings: EdgeSettings) -> Any:
    """The glossary-aware recognition levers ``settings`` turn on (``edge.speech.terms.TermLevers``)."""
    from edge.speech.terms import TermLevers

    return TermLevers(
        correction=settings.term_correction,
        phrases=settings.spoken_phrases,
        domains=tuple(settings.term_domains),
        hotwords=settings.asr_hotwords,
        rescoring=settings.asr_rescoring,
        verification=settings.term_verification,
    )


def tune_for_glossary(transcriber: Any, levers: Any, glossary: Any | None, corrector: Any | None) -> Any:
    """``transcriber`` with the glossary's hotwords and beam alternatives where ``levers`` ask for them
    (at start-up and whenever a synced glossary replaces the old one; unchanged without a glossary)."""
    if transcriber is None or glossary is None or not hasattr(transcriber, "with_options"):
        return transcriber
    if levers.hotwords:
        transcriber = with_hotwords(transcriber, glossary, levers.domains)
    if levers.rescoring and corrector is not None:
        transcriber = with_alternatives(transcriber)
    return transcriber


def with_alternatives(transcriber: WhisperTranscriber, count: int = 5) -> WhisperTranscriber:
    """``transcriber`` returning up to ``count`` beam hypotheses for n-best rescoring (same best one)."""
    from dataclasses import replace

    options = transcriber.options
    return transcriber.with_options(replace(options, num_hypotheses=max(1, min(count, options.beam_size))))


def with_hotwords(
    transcriber: WhisperTranscriber, glossary: Any, domains: tuple[str, ...]
) -> WhisperTranscriber:
    """``transcriber`` prompted with the counter's terms (``edge.speech.term_hints.hotword_text``)."""
    from dataclasses import replace

    from edge.speech.term_hints import hotword_text

    return transcriber.with_options(replace(transcriber.options, hotwords=hotword_text(glossary, domains)))
