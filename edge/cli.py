"""Edge commands: ``madoguchi translate`` (one file, one turn) and the ``madoguchi edge`` sub-app.

``translate`` writes exactly what the user asked for into ``--out``: ``result.json`` and, when a voice
spoke, ``speech.wav``. Nothing else is written (no cache of the audio or the words).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

from edge.audio.decode import load_audio, write_wav
from edge.audio.vad import trim_silence
from edge.config import load_settings
from edge.errors import ConfigError, EdgeError, EngineUnavailable, LanguageError
from edge.turn.languages import AUTO
from edge.turn.pipeline import TurnPipeline
from edge.turn.result import TurnResult
from glossary.languages import COUNTER_LANGUAGES, EASY_JAPANESE, ENGLISH_NAMES, check_language

_LOGGER = logging.getLogger(__name__)

app = typer.Typer(help="The counter device: engines, languages, demo.", no_args_is_help=True)

#: The bundled Japanese sample clip (Mozilla Common Voice, CC0; see samples/CREDITS.md).
SAMPLE_CLIP = Path(__file__).parent / "samples" / "ja_common_voice_19482480.mp3"


def _language(code: str, role: str, *, allow_auto: bool = False, allow_easy: bool = False) -> str:
    if allow_auto and code.strip().lower() == AUTO:
        return AUTO
    try:
        return check_language(code, allow_easy=allow_easy)
    except ValueError:
        codes = (*COUNTER_LANGUAGES, EASY_JAPANESE) if allow_easy else COUNTER_LANGUAGES
        valid = ", ".join((AUTO, *codes) if allow_auto else codes)
        raise LanguageError(f"unknown {role} language {code!r}; use one of: {valid}") from None


def _run_file(input: Path, target: str, source: str, *, warm: bool = False) -> TurnResult:
    target = _language(target, "target", allow_easy=True)
    source = _language(source, "source", allow_auto=True)
    settings = load_settings()
    audio = load_audio(input)
    trim_silence(audio)  # fail on silence before spending seconds loading models
    # With ``auto`` the MT packs load on first use (only the detected language's pack is needed).
    pipe = TurnPipeline.from_settings(settings, pairs=[(source, target)], warm=warm)
    return pipe.run_turn(audio, source, target)


def _echo_result(result: TurnResult) -> None:
    typer.echo(f"[{result.source_language}] {result.source_text}")
    if result.target_text:
        typer.echo(f"[{result.target_language}] {result.target_text}  ({result.mt_engine})")
    if result.readings:
        typer.echo(f"[reading] {bracketed(result.readings)}")
    if result.voice:
        machine = " (machine voice, low quality)" if result.voice_quality == "machine" else ""
        typer.echo(f"voice: {result.voice}{machine}", err=True)
    for notice in result.notices:
        typer.echo(f"note: {notice}", err=True)
    timings = ", ".join(f"{key} {value:.0f} ms" for key, value in result.timings_ms.items())
    typer.echo(f"timings: {timings}", err=True)


def translate_command(
    input: Path = typer.Argument(..., help="Audio file (WAV, FLAC, OGG, MP3; any rate, mono or stereo)."),
    target: str = typer.Option(
        ..., "--target", "-t", help="Language of the listener (ja, vi, zh, tl, ..., or ja-easy)."
    ),
    source: str = typer.Option(AUTO, "--source", "-s", help="Spoken language, or 'auto' to detect it."),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Directory for result.json and speech.wav."),
) -> None:
    """Translate one recorded utterance: writes OUT/result.json and OUT/speech.wav (when a voice speaks).

    One-shot: the engines are not warmed up, so the timings include first-run costs.
    """
    result = _run_file(input, target, source)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "result.json").write_text(
            json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        speech = out / "speech.wav"
        if result.audio is not None and result.sample_rate:
            write_wav(speech, result.audio, result.sample_rate)
        elif speech.exists():
            speech.unlink()  # a stale file from an earlier run would be mistaken for this turn's speech
    except OSError as exc:
        raise EdgeError(f"cannot write the results to {out}: {exc.strerror or exc}") from exc
    _echo_result(result)
    typer.echo(
        f"wrote {out / 'result.json'}" + (f" and {out / 'speech.wav'}" if result.audio is not None else "")
    )


@app.command("info")
def info_command() -> None:
    """Show, per enabled language, ASR, the MT engine per direction (which leg is real MT, which is
    Whisper's speech translation or missing) and the voice."""
    from edge import engines

    settings = load_settings()
    store = engines.open_store(settings)
    try:
        model_dir, asr_id = engines.asr_model_dir(settings, store)
        asr_ok, asr_note = True, f"{asr_id} ({model_dir})"
    except EdgeError as exc:
        asr_ok, asr_note = False, str(exc)
    typer.echo(f"pack store: {settings.store_dir}")
    typer.echo(f"ASR: {'ok' if asr_ok else 'MISSING'} - {asr_note}")
    router = engines.load_mt_router(settings, store, None)
    voices = engines.find_voices(settings, store)
    missing: list[str] = []
    credits: dict[str, str] = {}
    typer.echo(f"{'lang':<5} {'name':<22} {'ASR':<4} {'MT ja→x':<28} {'MT x→ja':<28} voice")
    for lang in settings.languages:
        to_x = from_x = "-"
        if lang != "ja":
            for a, b in (("ja", lang), (lang, "ja")):
                if router is None:
                    missing.append(f"no MT for {a}→{b}")
                    continue
                label, line = router.route_status(a, b)
                if router.can_translate(a, b):
                    continue
                missing.append(line if label else router.missing_hint(a, b))
            to_x = (router.route_status("ja", lang)[0] if router is not None else None) or "no"
            from_x = (router.route_status(lang, "ja")[0] if router is not None else None) or "no"
        ref = voices.get(lang)
        voice = "none (text only)" if ref is None else ref.pack_id
        if ref is not None and ref.machine:
            voice += " (machine voice, low quality)"
        if ref is not None and ref.attribution:
            credits.setdefault(ref.attribution, ref.pack_id)
        asr = "ok" if asr_ok else "no"
        typer.echo(f"{lang:<5} {ENGLISH_NAMES.get(lang, lang):<22} {asr:<4} {to_x:<28} {from_x:<28} {voice}")
    for line in dict.fromkeys(missing):
        typer.echo(f"missing: {line}")
    for attribution, pack_id in credits.items():
        typer.echo(f"voice credit ({pack_id}): {attribution}")
    for pack in store.find("mt") if store is not None else []:  # the licences that ask for attribution
        if pack.spec.license.attribution:
            typer.echo(f"MT credit ({pack.id}): {pack.spec.license.attribution}")


@app.command("check")
def check_command() -> None:
    """Check every installed model pack in full (sha256 of each file) and the stored glossary's signature."""
    from edge import engines
    from models.errors import ModelPackError
    from models.registry import verify_pack

    settings = load_settings()
    store = engines.open_store(settings)
    packs = store.installed() if store is not None else []
    failed: list[str] = []
    for pack in packs:
        try:
            verify_pack(pack)
        except ModelPackError as exc:
            failed.append(pack.id)
            typer.echo(f"CORRUPT {exc}")
        else:
            typer.echo(f"ok {pack.id} ({len(pack.spec.files)} files)")
    if not packs:
        typer.echo(f"no model packs installed in {settings.store_dir}")
    pubkey = settings.resolved_pubkey_path
    if pubkey.exists():
        from edge.sync.enrollment import enrollment_paths
        from edge.sync.glossary_store import GlossaryStore
        from glossary.signing import load_public_key

        stored = GlossaryStore(
            enrollment_paths(settings.home).glossary_dir, load_public_key(pubkey.read_bytes())
        )
        loaded = stored.load()
        typer.echo(
            f"ok glossary version {loaded.statement.number} (signature verified)"
            if loaded is not None
            else "glossary: no verified version stored (the bundled glossary is used)"
        )
    if failed:
        raise EngineUnavailable(
            f"{len(failed)} of {len(packs)} packs are corrupt ({', '.join(failed)}); "
            f"run `madoguchi models install {' '.join(failed)}` to repair them"
        )


@app.command("demo")
def demo_command(
    target: str = typer.Option("en", "--target", "-t", help="Language to translate the sample into."),
) -> None:
    """Run one turn (ja → TARGET) on the bundled Common Voice sample and print the result (writes nothing)."""
    result = _run_file(SAMPLE_CLIP, target, "ja", warm=True)  # warm: show the hot-path timings
    _echo_result(result)
    typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))


@app.command("run")
def run_command(
    port: int = typer.Option(None, "--port", help="Port of the counter page (default 8765)."),
    host: str = typer.Option(None, "--host", help="Address to listen on (default 127.0.0.1)."),
    with_local_server: bool = typer.Option(
        False, "--with-local-server", help="Also start a local central server (SQLite) and enroll to it."
    ),
    server_port: int = typer.Option(8470, "--server-port", help="Port of the local central server."),
    interpreter_note: str = typer.Option(
        None, "--interpreter-note", help="The clerk's interpreter line note (text)."
    ),
    https: bool = typer.Option(
        None,
        "--https/--http",
        help="Serve HTTPS with the device's local CA (default: HTTPS whenever --host is not loopback).",
    ),
    mic_device: str = typer.Option(
        None, "--mic-device", help="Device microphone: PortAudio index or name part (see /api/devices)."
    ),
) -> None:
    """Start the counter: load the models, serve the page (clerk and resident) and print its URL."""
    from edge.counter.run import run_command as _run

    _run(port, host, with_local_server, server_port, interpreter_note, https, mic_device)


@app.command("enroll")
def enroll_command(
    server: str = typer.Option(
        ..., "--server", help="Central server URL, e.g. https://madoguchi.city.example"
    ),
    token_file: Path = typer.Option(
        None, "--token-file", help="File with the device token ('-' = stdin; or $MADOGUCHI_TOKEN)."
    ),
    token: str = typer.Option(None, "--token", hidden=True),
    pubkey: Path = typer.Option(
        ..., "--glossary-key", "--pubkey", help="The server's glossary-signing.pub file."
    ),
    pack_key: Path = typer.Option(
        None, "--pack-key", help="The pack key's pack-signing.pub (model packs from the server need it)."
    ),
) -> None:
    """Enroll this device with the central server, pin its keys and pull the signed glossary."""
    from edge.sync.enrollment import enroll
    from edge.sync.token_input import TOKEN_ENV, read_secret, refuse_argv_secret

    refuse_argv_secret(token, "--token", "--token-file", TOKEN_ENV)
    secret = read_secret(token_file, TOKEN_ENV, "device token")
    if secret is None:
        raise ConfigError(
            f"give the device token with --token-file FILE, --token-file - (stdin) or ${TOKEN_ENV}"
        )
    settings = load_settings()
    result = enroll(
        server, secret, pubkey, settings.home, token_path=settings.token_path,
        pubkey_path=settings.pubkey_path, pack_key_file=pack_key,
    )  # fmt: skip
    typer.echo(f"enrolled with {server}; glossary version {result.version or '(none published yet)'}")
    if pack_key is None:
        typer.echo("note: no --pack-key: this device takes no model packs from the server")


@app.command("sync")
def sync_command() -> None:
    """Run one sync round now: pull the glossary, send usage counts, send a heartbeat."""
    import asyncio

    from edge.sync.client import SyncOptions
    from edge.sync.enrollment import client_from_home
    from madoguchi import __version__

    settings = load_settings()
    client = client_from_home(
        settings.home,
        server_url=settings.server_url,
        token_path=settings.token_path,
        pubkey_path=settings.pubkey_path,
        options=SyncOptions(app_version=__version__),
    )

    async def _once():  # type: ignore[no-untyped-def]
        async with client:
            return await client.sync_once(force_usage=True)

    try:
        report = asyncio.run(_once())
    finally:
        client.outbox.close()
    typer.echo(
        f"glossary {report.pull.status} (version {report.pull.version or '-'}); "
        f"usage batches sent {report.batches_sent}; heartbeat {'ok' if report.heartbeat_ok else 'failed'}"
    )
    if report.error_codes:
        raise EdgeError(f"sync finished with errors: {', '.join(report.error_codes)}")


def bracketed(readings: tuple[tuple[str, str | None], ...]) -> str:
    """Text with its furigana as 漢字[かんじ] (the readings the voice speaks)."""
    return "".join(text if reading is None else f"{text}[{reading}]" for text, reading in readings)
