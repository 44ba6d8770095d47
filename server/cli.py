"""``madoguchi server …``: run the central server and administer it from the shell."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from server.errors import ServerError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from server.core.config import ServerSettings

_LOGGER = logging.getLogger(__name__)

app = typer.Typer(help="Central server: glossary distribution, fleet, usage counts.", no_args_is_help=True)

_DB = typer.Option(None, "--db", help="Database URL (default: sqlite:///<home>/server.db).")


def _settings(db: str | None = None, **overrides: object) -> ServerSettings:
    from server.core.config import ServerSettings  # pydantic-settings: loaded only when a command runs

    values = {k: v for k, v in overrides.items() if v is not None}
    if db:
        values["database_url"] = db
    return ServerSettings(**values)  # type: ignore[arg-type]


def _factory(settings: ServerSettings) -> sessionmaker[Session]:
    """Migrate the database to the newest schema and return its session factory."""
    from server.core.db import make_engine, make_session_factory
    from server.core.migrate import upgrade_to_head

    engine = make_engine(settings.resolved_database_url)
    upgrade_to_head(engine)
    return make_session_factory(engine)


@app.command()
def run(
    host: str = typer.Option(None, "--host", help="Address to listen on (default 127.0.0.1)."),
    port: int = typer.Option(None, "--port", help="Port (default 8470)."),
    db: str | None = _DB,
    ssl_certfile: Path | None = typer.Option(
        None, "--ssl-certfile", help="TLS certificate (PEM) to serve HTTPS."
    ),
    ssl_keyfile: Path | None = typer.Option(
        None, "--ssl-keyfile", help="TLS private key (PEM) for --ssl-certfile."
    ),
) -> None:
    """Serve the API and the console (migrates, creates the signing key, publishes glossary v1 if none).

    Devices should reach the server over TLS: give a certificate here or run it behind a TLS proxy.
    """
    import uvicorn

    from server.main import create_app, prepare

    settings = _settings(db, host=host, port=port)
    state = prepare(settings)
    if state.signing_key_created:
        typer.echo(f"created signing key {settings.resolved_signing_key_path}")
    typer.echo(f"public key for devices: {settings.public_key_path}")
    if state.bundled_published is not None:
        typer.echo(f"published the bundled glossary as version {state.bundled_published}")
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise ServerError("give both --ssl-certfile and --ssl-keyfile, or neither")
    uvicorn.run(
        create_app(settings, state),
        host=settings.host,
        port=settings.port,
        log_level="info",
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
    )


@app.command()
def migrate(db: str | None = _DB) -> None:
    """Bring the database schema to the newest revision."""
    _factory(_settings(db))
    typer.echo("database is up to date")


@app.command()
def keygen(
    out: Path | None = typer.Option(
        None, "--out", help="Private key path (default <home>/glossary-signing.key or ./pack-signing.key)."
    ),
    purpose: str = typer.Option(
        "glossary",
        "--purpose",
        help="glossary: the server's online key; pack: the offline key for model packs and bundles.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing key (devices must get the new .pub)."
    ),
) -> None:
    """Create an Ed25519 signing key; prints the public key path to give devices.

    Keep the pack key off the server (a laptop or an offline machine): it signs what runs on the devices.
    """
    from glossary.signing import load_private_key, public_key_fingerprint
    from server.core.security import write_signing_key

    if purpose not in ("glossary", "pack"):
        raise ServerError(f"--purpose must be glossary or pack, not {purpose!r}")
    path = out or (
        _settings().resolved_signing_key_path if purpose == "glossary" else Path("pack-signing.key")
    )
    write_signing_key(path, overwrite=force)
    fingerprint = public_key_fingerprint(load_private_key(path.read_bytes()), full=True)
    typer.echo(f"{purpose} key fingerprint: {fingerprint}", err=True)
    typer.echo(str(path.with_suffix(".pub")))


@app.command()
def enroll(
    site: str = typer.Option(..., "--site", help="Site (counter location) name."),
    device: str = typer.Option(..., "--device", help="Device name, unique within the site."),
    db: str | None = _DB,
) -> None:
    """Enroll a device and print its token once (the server keeps only a hash)."""
    from server import crud
    from server.core.db import session_scope

    with session_scope(_factory(_settings(db))) as session:
        _device, token = crud.enroll_device(session=session, site_name=site, device_name=device)
    typer.echo(f"enrolled {site}/{device}; token (shown once):", err=True)
    typer.echo(token)


@app.command()
def devices(db: str | None = _DB) -> None:
    """List enrolled devices with their last heartbeat."""
    from server import crud
    from server.api.routes.devices import device_public
    from server.core.db import session_scope

    settings = _settings(db)
    with session_scope(_factory(settings)) as session:
        rows = [
            device_public(d, stale_after_hours=settings.stale_after_hours)
            for d in crud.list_devices(session=session)
        ]
    if not rows:
        typer.echo("no devices (enroll one with: madoguchi server enroll --site NAME --device NAME)")
    for d in rows:
        seen = d.last_seen_at.strftime("%Y-%m-%d %H:%M") if d.last_seen_at else "never"
        flags = " REVOKED" if d.revoked else (" STALE" if d.stale else "")
        typer.echo(
            f"{d.id}\t{d.site}/{d.name}\tseen {seen}\tglossary {d.glossary_version or '-'}"
            f"\terror {d.last_error_code or '-'}{flags}"
        )


@app.command()
def revoke(
    device: str = typer.Argument(..., help="Device id, SITE/DEVICE or a unique name."), db: str | None = _DB
) -> None:
    """Revoke a device's token (its next request is refused)."""
    from server import crud
    from server.core.db import session_scope

    with session_scope(_factory(_settings(db))) as session:
        row = crud.revoke_device(session=session, ref=device)
        name = f"{row.site.name}/{row.name}"
    typer.echo(f"revoked {name}")


@app.command("admin-add")
def admin_add(
    user: str = typer.Argument(..., help="Admin user name."),
    db: str | None = _DB,
) -> None:
    """Create a console admin (password from MADOGUCHI_SERVER_ADMIN_PASSWORD or a prompt)."""
    from server import crud
    from server.core.db import session_scope

    password = os.environ.get("MADOGUCHI_SERVER_ADMIN_PASSWORD") or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True
    )
    settings = _settings(db)
    with session_scope(_factory(settings)) as session:
        crud.create_admin(
            session=session,
            username=user,
            password=password,
            policy=settings.password_policy,
        )
    typer.echo(f"admin {user} saved")


@app.command()
def publish(
    file: Path = typer.Argument(..., help="Glossary .csv, .xlsx, .json or data directory."),
    db: str | None = _DB,
    yes: bool = typer.Option(True, "--yes/--dry-run", help="Publish (default) or only show the diff."),
) -> None:
    """Validate a glossary, print the diff against the current version, and publish it."""
    from glossary.io import load_glossary
    from server import crud
    from server.core.db import session_scope
    from server.core.security import load_or_create_signing_key
    from server.glossary_ops import diff_glossaries, read_upload

    settings = _settings(db)
    factory = _factory(settings)
    with session_scope(factory) as session:
        current_row = crud.current_glossary(session=session)
        current = crud.glossary_of(current_row) if current_row else None
        if file.is_dir():
            new = load_glossary(file)
        else:
            try:
                data = file.read_bytes()
            except OSError as exc:
                raise ServerError(f"cannot read {file}: {exc.strerror or exc}; check the path") from exc
            result = read_upload(file.name, data, current)
            for warning in result.warnings:
                typer.echo(f"warning: {warning}", err=True)
            if result.glossary is None:
                for problem in result.problems:
                    typer.echo(problem, err=True)
                raise ServerError(f"{file} has {len(result.problems)} problem(s); nothing published")
            new = result.glossary
        diff = diff_glossaries(current, new)
        for label, ids in diff.model_dump().items():
            if ids:
                more = " …" if len(ids) > 20 else ""
                typer.echo(f"{label.replace('_', ' ')} ({len(ids)}): {', '.join(ids[:20])}{more}")
        if current is not None and current.content_hash == new.content_hash:
            typer.echo("no change: nothing published")
            return
        if not yes:
            typer.echo("dry run: nothing published")
            return
        key, _created = load_or_create_signing_key(settings.resolved_signing_key_path)
        row = crud.publish_glossary(
            session=session, glossary=new, signing_key=key, published_by="cli", note=f"publish {file.name}"
        )
        typer.echo(f"published version {row.number} ({row.version})")


@app.command()
def rollback(
    version: int = typer.Argument(..., help="Version number to restore."), db: str | None = _DB
) -> None:
    """Publish the content of an older version again, as a new version."""
    from server import crud
    from server.core.db import session_scope
    from server.core.security import load_signing_key

    settings = _settings(db)
    with session_scope(_factory(settings)) as session:
        key = load_signing_key(settings.resolved_signing_key_path)
        row = crud.rollback_glossary(session=session, number=version, signing_key=key, published_by="cli")
        typer.echo(f"published version {row.number} with the content of version {version}")


@app.command()
def versions(db: str | None = _DB) -> None:
    """List published glossary versions, newest first."""
    from server import crud
    from server.core.db import session_scope

    with session_scope(_factory(_settings(db))) as session:
        for row in crud.list_glossary_versions(session=session):
            typer.echo(
                f"{row.number}\t{row.version}\t{row.published_at}\t{row.term_count} terms"
                f"\t{row.phrase_count} phrases\t{row.note}"
            )


packs_app = typer.Typer(help="Model packs the server distributes to devices.", no_args_is_help=True)
app.add_typer(packs_app, name="packs")


@packs_app.command("add")
def packs_add(
    file: Path = typer.Argument(..., help="A pack directory (with pack.json) or a .tar/.tar.gz of one."),
    hold: bool | None = typer.Option(
        None,
        "--hold/--all-sites",
        help="--hold: offer it to no site yet (push it to sites from the console's packs page); "
        "--all-sites: offer it to every site. Default: a new release goes to every site, "
        "a release already stored keeps its offer.",
    ),
    db: str | None = _DB,
) -> None:
    """Check a signed pack (pack.sig) against its pack.json, store it and offer it to devices."""
    from server import crud
    from server.core.db import session_scope
    from server.packs import load_pack_key, store_pack

    settings = _settings(db)
    stored = store_pack(file, Path(settings.home) / "packs", load_pack_key(settings.resolved_pack_key_path))
    with session_scope(_factory(settings)) as session:
        before = crud.pack_release(session=session, pack_id=stored.pack_id, version=stored.version)
        was = None if before is None else before.all_sites
        all_sites = None if hold is None else not hold
        now = crud.add_pack_release(session=session, stored=stored, uploaded_by="cli", all_sites=all_sites)
        where = _offer_change(was, now.all_sites)
    typer.echo(f"stored pack {stored.pack_id} {stored.version} ({stored.size_bytes / 1e6:.1f} MB), {where}")


def _offer_change(was: bool | None, now: bool) -> str:
    """What ``packs add`` did to the release's offer (``was``: None for a new release)."""
    held = "held: push it to sites from the console"
    every = "offered to the devices of every site"
    if was is None:
        return every if now else held
    if was == now:
        return f"already stored, still {every}" if now else f"already stored, still {held} (or --all-sites)"
    return f"was held, now {every}" if now else f"was offered to every site, now {held}"


@packs_app.command("sign")
def packs_sign(
    directory: Path = typer.Argument(..., help="A pack directory (with pack.json)."),
    key: Path = typer.Option(..., "--key", help="The offline pack key (pack-signing.key)."),
) -> None:
    """Sign a pack with the pack key (on the signing machine, not the server): writes DIR/pack.sig."""
    import json

    from glossary.pack_signing import PACK_SIGNATURE_FILE, sign_pack
    from server.packs import PackUploadError, read_pack_json

    document = sign_pack(_load_key(key), read_pack_json(directory))
    try:
        (directory / PACK_SIGNATURE_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise PackUploadError(f"cannot write {directory / PACK_SIGNATURE_FILE}: {exc}") from exc
    typer.echo(f"signed {directory.name} with {document['key']} at {document['signed_at']}")


@packs_app.command("sign-rollback")
def packs_sign_rollback(
    pack_id: str = typer.Option(..., "--pack", help="Pack id."),
    from_version: str = typer.Option(..., "--from", help="The release devices leave (the bad one)."),
    to_version: str = typer.Option(..., "--to", help="The older release they go back to."),
    key: Path = typer.Option(..., "--key", help="The offline pack key (pack-signing.key)."),
    out: Path = typer.Option(..., "--out", help="Rollback statement file to write."),
) -> None:
    """Sign a rollback statement (devices otherwise never go to an older pack release)."""
    import json

    from glossary.pack_signing import sign_rollback

    document = sign_rollback(_load_key(key), pack_id, from_version, to_version)
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"rollback of {pack_id} {from_version} -> {to_version} written to {out}")


@packs_app.command("rollback")
def packs_rollback(
    statement: Path = typer.Argument(..., help="A rollback statement from `packs sign-rollback`."),
    db: str | None = _DB,
) -> None:
    """Offer an older pack release again, with the rollback statement devices need to accept it."""
    import json

    from server import crud
    from server.core.db import session_scope
    from server.packs import PackUploadError, load_pack_key, store_rollback

    settings = _settings(db)
    try:
        document = json.loads(statement.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackUploadError(f"cannot read rollback statement {statement}: {exc}") from exc
    signed = store_rollback(
        document, Path(settings.home) / "packs", load_pack_key(settings.resolved_pack_key_path)
    )
    with session_scope(_factory(settings)) as session:
        crud.reoffer_pack_release(
            session=session, pack_id=signed["pack"], version=signed["to_version"], by="cli rollback"
        )
    typer.echo(
        f"offering {signed['pack']} {signed['to_version']} again (rollback from {signed['from_version']})"
    )


def _load_key(path: Path):  # type: ignore[no-untyped-def]
    from server.core.security import load_signing_key

    return load_signing_key(path)


@packs_app.command("list")
def packs_list(db: str | None = _DB) -> None:
    """List pack releases, and per device the offered packs it is missing."""
    import json

    from server import crud
    from server.core.db import session_scope

    with session_scope(_factory(_settings(db))) as session:
        for row in crud.list_pack_releases(session=session):
            typer.echo(f"{row.pack_id}\t{row.version}\t{row.kind}\t{row.size_bytes / 1e6:.1f} MB")
        for device in crud.list_devices(session=session):
            if device.revoked_at is None:
                offered = {row.pack_id for row in crud.pack_offers(session=session, site_id=device.site_id)}
                missing = sorted(offered - set(json.loads(device.pack_ids or "[]")))
                typer.echo(f"{device.site.name}/{device.name}\tmissing: {', '.join(missing) or '-'}")
