"""Machine translation on the counter device: CTranslate2 + SentencePiece packs, direct or via English.

    router = MtRouter(PackStore(root), MtOptions(beam_size=2), glossary=bundled_glossary())
    router.warm([("ja", "vi"), ("vi", "ja")])          # load once, before "Ready"
    t = router.translate("住民票の写しをください。", "ja", "vi")
    t.text, t.engine, t.pack_ids, t.terms_applied, t.flagged

Routing: a pack translating source→target directly; else source→en + en→target (engine
``ctranslate2-pivot``); else ``MtUnavailable`` whose message names the catalogue packs to install.
Input is split into sentences (ja 。！？, latin .!?) that go through one ``translate_batch`` call.

Glossary enforcement (source Japanese, the clerk's side): glossary terms found in the source are
replaced by placeholders (``glossary.enforce.protect``), translated (through the pivot too), then
restored with the approved term of the FINAL language; a placeholder the model dropped is re-inserted
and the turn is flagged (``terms_fallback``, ``flagged``).

Pack formats (``pack.json`` ``format``) and how to produce them — the device never converts:

- quickmt (``ct2-sentencepiece``): the Hugging Face repos ``quickmt/quickmt-<src>-<tgt>`` are already
  CTranslate2 directories with ``src.spm.model`` / ``tgt.spm.model``; install as-is.
- M2M-100 418M (``m2m100``)::

      ct2-transformers-converter --model facebook/m2m100_418M --output_dir m2m100_418M-ct2-int8 \\
          --quantization int8 --copy_files sentencepiece.bpe.model

- NLLB-200 (``m2m100`` format with ``language_codes`` such as ``{"ja": "jpn_Jpan", "vi": "vie_Latn"}``:
  same ``code + pieces + </s>`` / target-prefix layout; CC-BY-NC, never for production)::

      ct2-transformers-converter --model facebook/nllb-200-distilled-600M \\
          --output_dir nllb-600M-ct2-int8 --quantization int8 --copy_files sentencepiece.bpe.model

- OPUS-MT / Tatoeba (``opus-mt``), from the unzipped release (``*.npz``, ``decoder.yml``, vocab
  ``.yml``, ``source.spm``, ``target.spm``)::

      ct2-opus-mt-converter --model_dir opus-2021-02-18 --output_dir opus-jpn-vie-ct2 --quantization int8
      cp opus-2021-02-18/source.spm opus-2021-02-18/target.spm opus-jpn-vie-ct2/

  (or ``ct2-marian-converter --model_path model.npz --vocab_paths vocab.yml vocab.yml ...``; HF copies:
  ``ct2-transformers-converter --model Helsinki-NLP/opus-mt-ja-vi --copy_files source.spm target.spm``).
  Multi-target models need ``"target_token_template": ">>{code}<<"`` and ``language_codes``.
- Argos (``argos``): a ``.argosmodel`` file is a zip; extract it as-is into the pack directory (top
  folder flattened). ``model/`` is already a CTranslate2 directory and ``sentencepiece.model`` the
  tokenizer; ``metadata.json`` may give a ``target_prefix``. Packages with ``bpe.model`` are refused.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.errors import EngineUnavailable, LanguageError, MtUnavailable
from edge.translate.tokenize import PackCodec, PackView, pack_fix_hint

_LOGGER = logging.getLogger(__name__)

PIVOT_LANGUAGE = "en"
#: Languages quickmt publishes xx↔en packs for (no tl, no ne: those go through M2M-100).
QUICKMT_LANGUAGES = frozenset({"ja", "zh", "ko", "vi", "id", "pt", "es"})
COVERAGE_PACK = "m2m100-418m"
_NO_SPACE_LANGUAGES = frozenset({"ja", "zh"})
_SENTENCE_END = re.compile(r"(?<=[。！？!?])(?![。！？!?])\s*|(?<=[.…])\s+|\n+")

__all__ = ["MtOptions", "MtRouter", "Translation", "join_sentences", "split_sentences"]


@dataclass(frozen=True)
class MtOptions:
    """Per-call decoding settings (CPU only)."""

    beam_size: int = 2
    max_decoding_length: int = 256
    use_vmap: bool = False
    intra_threads: int = 2
    inter_threads: int = 1
    compute_type: str = "int8"
    min_decoding_length: int = 0


@dataclass
class Translation:
    """One translated text, with everything needed to explain it later."""

    text: str
    source_language: str
    target_language: str
    engine: str
    pack_ids: list[str]
    pivot: str | None = None
    terms_applied: list[str] = field(default_factory=list)
    terms_fallback: list[str] = field(default_factory=list)
    flagged: bool = False
    glossary_version: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    #: The translated sentences, in input order (``text`` joins them).
    segments: list[str] = field(default_factory=list)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``: ends at 。！？!? (ja/zh) and at . … followed by a space (latin scripts)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def join_sentences(sentences: Sequence[str], language: str) -> str:
    """Join translated sentences as the language writes them (no spaces in ja/zh)."""
    sep = "" if language in _NO_SPACE_LANGUAGES else " "
    return sep.join(s for s in sentences if s)


@dataclass
class _LoadedPack:
    view: PackView
    translator: Any
    codec: PackCodec
    has_vmap: bool


def _check(code: str) -> str:
    from glossary.languages import check_language

    try:
        return check_language(code)
    except ValueError as exc:
        raise LanguageError(str(exc)) from exc


class MtRouter:
    """Picks the packs for a pair, loads each once, translates (with glossary enforcement)."""

    def __init__(self, store: Any, options: MtOptions | None = None, glossary: Any | None = None) -> None:
        """Set up routing; nothing loads until :meth:`warm` or the first translation.

        Args:
            store: The pack store (``models.PackStore`` or anything with ``find_mt(source, target)``).
            options: Per-call MT settings (default :class:`MtOptions`).
            glossary: The glossary whose approved terms are enforced (None: no enforcement).
        """
        self.store = store
        self.options = options or MtOptions()
        self.glossary = glossary
        self._loaded: dict[str, _LoadedPack] = {}
        self._lock = threading.Lock()
        self._matcher: Any | None = None
        self._routes: dict[tuple[str, str], list[Any]] = {}

    # -- routing ---------------------------------------------------------------------------------
    def _route(self, source: str, target: str) -> list[Any] | None:
        """Packs for the pair (cached once found, so the hot path reads no manifest)."""
        cached = self._routes.get((source, target))
        if cached is not None:
            return cached
        route: list[Any] | None = None
        direct = self.store.find_mt(source, target)
        if direct is not None:
            route = [direct]
        elif PIVOT_LANGUAGE not in (source, target):
            first = self.store.find_mt(source, PIVOT_LANGUAGE)
            second = self.store.find_mt(PIVOT_LANGUAGE, target)
            route = [first, second] if first is not None and second is not None else None
        if route is not None:
            self._routes[(source, target)] = route
        return route

    def reset(self) -> None:
        """Forget loaded models and routes (after packs were installed or removed)."""
        with self._lock:
            self._loaded.clear()
            self._routes.clear()

    def can_translate(self, source: str, target: str) -> bool:
        """True when installed packs cover source→target (directly or via English); False for bad codes."""
        try:
            source, target = _check(source), _check(target)
        except LanguageError:
            return False
        return source == target or self._route(source, target) is not None

    def missing_hint(self, source: str, target: str) -> str:
        """One line naming the catalogue packs that would make source→target work."""
        names: list[str] = []
        legs = (
            [(source, target)]
            if PIVOT_LANGUAGE in (source, target)
            else [(source, PIVOT_LANGUAGE), (PIVOT_LANGUAGE, target)]
        )
        for a, b in legs:
            if self.store.find_mt(a, b) is None:
                names.append(_catalogue_name(a, b))
        if not names or COVERAGE_PACK in names:
            names = [COVERAGE_PACK]
        packs = " ".join(dict.fromkeys(names))
        return f"no MT pack for {source}→{target}: run `madoguchi models install {packs}`"

    # -- loading ---------------------------------------------------------------------------------
    def warm(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Load the packs of every pair now, so the hot path does no I/O (missing pairs are logged)."""
        for source, target in pairs:
            route = self._route(_check(source), _check(target)) if source != target else []
            if route is None:
                _LOGGER.warning("%s", self.missing_hint(source, target))
                continue
            for pack in route:
                self._load(pack)
        if self.glossary is not None:
            self._term_matcher()

    def _load(self, pack: Any) -> _LoadedPack:
        view = PackView.of(pack)
        with self._lock:
            loaded = self._loaded.get(view.id)
            if loaded is not None:
                return loaded
            codec = PackCodec.for_pack(view)
            model_dir = view.path / str(
                view.runtime.get("model_dir") or ("model" if view.format == "argos" else ".")
            )
            translator = _open_translator(view, model_dir, self.options)
            loaded = _LoadedPack(view, translator, codec, (model_dir / "vmap.txt").is_file())
            self._loaded[view.id] = loaded
            _LOGGER.info("MT pack %s loaded (%s)", view.id, view.format)
            return loaded

    # -- translation -----------------------------------------------------------------------------
    def translate(self, text: str, source: str, target: str) -> Translation:
        """Translate ``text``; raises ``MtUnavailable`` (with the install hint) when no pack covers it."""
        t0 = time.perf_counter()
        source, target = _check(source), _check(target)
        if source == target or not text.strip():
            return Translation(text, source, target, "none", [], segments=[text] if text.strip() else [])
        route = self._route(source, target)
        if route is None:
            raise MtUnavailable(self.missing_hint(source, target))
        packs = [self._load(p) for p in route]
        protected, slots = self._protect(text, source)
        sentences = split_sentences(protected)
        timings: dict[str, float] = {}
        lang = source
        for loaded, leg_target in zip(packs, [PIVOT_LANGUAGE, target][-len(packs) :], strict=True):
            t_leg = time.perf_counter()
            sentences = self._translate_sentences(loaded, sentences, lang, leg_target)
            timings[f"{lang}-{leg_target}"] = (time.perf_counter() - t_leg) * 1000.0
            lang = leg_target
        text_out = join_sentences(sentences, target)
        result = Translation(
            text=text_out,
            source_language=source,
            target_language=target,
            engine="ctranslate2" if len(packs) == 1 else "ctranslate2-pivot",
            pack_ids=[p.view.id for p in packs],
            pivot=PIVOT_LANGUAGE if len(packs) == 2 else None,
            segments=sentences,
            glossary_version=getattr(self.glossary, "version", None),
        )
        if slots is not None:
            self._restore(result, slots, target)
        timings["total"] = (time.perf_counter() - t0) * 1000.0
        result.timings_ms = timings
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug("MT %s→%s via %s: %r → %r", source, target, result.pack_ids, text, result.text)
        return result

    def _translate_sentences(
        self, loaded: _LoadedPack, sentences: list[str], source: str, target: str
    ) -> list[str]:
        if not sentences:
            return []
        batch, prefix = loaded.codec.encode(sentences, source, target)
        opts = self.options
        try:
            results = loaded.translator.translate_batch(
                batch,
                target_prefix=[prefix] * len(batch) if prefix else None,
                beam_size=max(1, opts.beam_size),
                max_decoding_length=opts.max_decoding_length + len(prefix),
                min_decoding_length=opts.min_decoding_length
                + (len(prefix) if opts.min_decoding_length else 0),
                use_vmap=opts.use_vmap and loaded.has_vmap,
                max_batch_size=16,
            )
        except (RuntimeError, ValueError) as exc:
            raise EngineUnavailable(
                f"MT pack {loaded.view.id} failed to translate ({' '.join(str(exc).split())[:160]}); "
                f"{pack_fix_hint(loaded.view.id)}"
            ) from exc
        return [loaded.codec.decode(r.hypotheses[0], prefix) for r in results]

    def translate_stream(self, text: str, source: str, target: str) -> Iterator[str]:
        """Yield the translation as it is decoded: text deltas, sentence by sentence (no glossary pass).

        Joining every yielded piece gives the greedy translation. For a pivot route the English leg of
        each sentence is decoded first, then the last leg streams.
        """
        source, target = _check(source), _check(target)
        route = self._route(source, target) if source != target else []
        if route is None:
            raise MtUnavailable(self.missing_hint(source, target))
        if not route:
            yield text
            return
        packs = [self._load(p) for p in route]
        sep = "" if target in _NO_SPACE_LANGUAGES else " "
        for n, sentence in enumerate(split_sentences(text)):
            lang, current = source, sentence
            for loaded in packs[:-1]:
                current = self._translate_sentences(loaded, [current], lang, PIVOT_LANGUAGE)[0]
                lang = PIVOT_LANGUAGE
            last = packs[-1]
            batch, prefix = last.codec.encode([current], lang, target)
            tokens: list[str] = list(prefix)
            emitted = ""
            if n:
                yield sep
            for step in last.translator.generate_tokens(
                batch[0],
                target_prefix=prefix or None,
                max_decoding_length=self.options.max_decoding_length + len(prefix),
                min_decoding_length=self.options.min_decoding_length
                + (len(prefix) if self.options.min_decoding_length else 0),
            ):
                tokens.append(step.token)
                decoded = last.codec.decode(tokens, prefix)
                if decoded.startswith(emitted) and len(decoded) > len(emitted):
                    yield decoded[len(emitted) :]
                    emitted = decoded
            final = last.codec.decode(tokens, prefix)
            if final != emitted and final.startswith(emitted):
                yield final[len(emitted) :]

    # -- glossary --------------------------------------------------------------------------------
    def set_glossary(self, glossary: Any | None) -> None:
        """Enforce ``glossary`` from the next translation on (a newly synced version)."""
        self.glossary = glossary
        self._matcher = None

    def _term_matcher(self) -> Any:
        if self._matcher is None:
            from glossary import TermMatcher

            self._matcher = TermMatcher(self.glossary)
        return self._matcher

    def _protect(self, text: str, source: str) -> tuple[str, Any | None]:
        """Placeholders for the glossary terms of a Japanese source (``None``: nothing to enforce)."""
        if self.glossary is None or source != "ja":
            return text, None
        from glossary.enforce import protect
        from glossary.errors import GlossaryError

        matches = self._term_matcher().find(text)
        if not matches:
            return text, None
        try:
            protected = protect(text, matches)
        except GlossaryError as exc:  # e.g. the text already holds every placeholder prefix
            _LOGGER.warning("glossary terms not protected for this turn: %s", exc)
            return text, None
        return protected.text, protected

    def _restore(self, result: Translation, protected: Any, target: str) -> None:
        """Approved terms of ``target`` in place of the placeholders, per segment; fallback and flag."""
        from glossary.enforce import restore

        # One restore over all segments (newline-joined) so fallback and verification see the whole turn.
        enforced = restore("\n".join(result.segments), protected, self.glossary, target)
        result.segments = [s.strip() for s in enforced.text.split("\n")]
        result.text = join_sentences(result.segments, target)
        result.terms_applied = list(enforced.applied)
        result.terms_fallback = list(enforced.fallback)
        result.flagged = bool(enforced.flagged or getattr(enforced, "missing", ()))


def _catalogue_name(source: str, target: str) -> str:
    """Catalogue pack for one leg: quickmt xx↔en where it exists, else the multilingual M2M-100."""
    if PIVOT_LANGUAGE in (source, target) and {source, target} - {PIVOT_LANGUAGE} <= QUICKMT_LANGUAGES:
        name = f"quickmt-{source}-{target}"
        return name if _in_catalogue(name) else COVERAGE_PACK
    return COVERAGE_PACK


def _in_catalogue(name: str) -> bool:
    """False only when the bundled catalogue is readable and lacks ``name``."""
    try:
        from models.catalogue import Catalogue
        from models.errors import ModelPackError
    except ImportError:
        return True
    try:
        return name in Catalogue.load()
    except ModelPackError:  # unreadable catalogue: trust the naming convention
        return True


def _open_translator(view: PackView, model_dir: Path, options: MtOptions) -> Any:
    """``ctranslate2.Translator`` on CPU, with load errors mapped to one actionable line."""
    import ctranslate2

    if not (model_dir / "model.bin").is_file():
        raise EngineUnavailable(
            f"MT pack {view.id}: model.bin missing in {model_dir}; {pack_fix_hint(view.id)}"
        )
    try:
        return ctranslate2.Translator(
            str(model_dir),
            device="cpu",
            compute_type=options.compute_type,
            intra_threads=options.intra_threads,
            inter_threads=options.inter_threads,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise EngineUnavailable(
            f"MT pack {view.id}: cannot load the model in {model_dir} ({reason}); {pack_fix_hint(view.id)}"
        ) from exc
