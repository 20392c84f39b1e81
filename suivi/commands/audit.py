"""`suivi audit …`: verify the trail, write a checkpoint, export a landlord's trail, verify one."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from models.cases import Case
from models.db import get_engine
from models.private import write_private
from notifications.audit_dispatch import checkpoint_and_send
from notifications.reports import FORMATS, render
from processes.audit_export import make_export, period
from processes.audit_verify import verify_trail
from processes.errors import InvalidPayload, NotFound
from processes.export_verify import verify_against_database, verify_document, verify_file_digest
from processes.signing import (
    MissingKey,
    load_public,
    new_private_pem,
    public_pem,
    signer_from,
)
from suivi.commands.case import parse_case_id
from suivi.common import (
    JsonOption,
    NowOption,
    console,
    err_console,
    fail,
    print_json,
    resolve_now,
    unit_of_work,
)

audit_app = typer.Typer(help="Piste d'audit.", no_args_is_help=True)

PUBLIC_KEY_VARIABLE = "SUIVI_AUDIT_PUBLIC_KEY_FILE"
PublicKeyOption = typer.Option(
    None, "--public-key", help="Clé publique Ed25519 (PEM) de l'association."
)


def _public_key(path: Path | None) -> Ed25519PublicKey | None:
    """The key to check signatures with: given, published beside us, or our own key's half."""
    chosen = path or (Path(os.environ[PUBLIC_KEY_VARIABLE])
                      if os.environ.get(PUBLIC_KEY_VARIABLE) else None)
    if chosen is not None:
        try:
            return load_public(chosen.read_text())
        except (OSError, ValueError):
            fail(f"clé publique illisible : {chosen}")
    try:
        return signer_from().private.public_key()
    except MissingKey:
        return None


@audit_app.command("verify")
def verify_command(
    case_id: str | None = typer.Argument(None, help="Un dossier, 12 ou C-12 (défaut : tous)."),
    public_key: Path | None = PublicKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """Vérifie chaînes, dossiers et dernier point de contrôle signé ; code 1 si altéré."""
    number = parse_case_id(case_id) if case_id is not None else None
    key = _public_key(public_key)
    with unit_of_work(as_json, read_only=True) as session:
        if number is not None and session.get(Case, number) is None:
            raise NotFound(f"dossier inconnu : C-{number}")
        report = verify_trail(session, public_key=key, case_id=number)
    if as_json:
        print_json(report.as_dict())
    else:
        for finding in report.findings:
            prefix = "attention" if finding.warning else "ALTÉRÉ"
            err_console.print(f"{prefix} — {finding.describe()}", markup=False, soft_wrap=True)
        if report.ok:
            console.print("Piste d'audit intègre.")
            console.print(f"{report.cases} dossiers, {report.events} événements vérifiés.")
        if report.checkpoint is None:
            console.print("Aucun point de contrôle : suppressions de dossiers et réécritures "
                          "complètes ne sont pas détectables (suivi audit checkpoint).")
        else:
            cp = report.checkpoint
            signed = "signature vérifiée" if report.signature_checked else (
                "signature NON vérifiée (aucune clé publique)")
            console.print(f"Comparé au point de contrôle n° {cp['id']} ({cp['at']}), "
                          f"empreinte {cp['digest']}, {signed}.", markup=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint_command(now: str | None = NowOption, as_json: bool = JsonOption) -> None:
    """Écrit et signe un point de contrôle de tous les dossiers, puis en envoie l'empreinte."""
    moment = resolve_now(now)
    with unit_of_work(as_json):
        signer = signer_from()
    run = checkpoint_and_send(get_engine(), signer, now=moment)
    if as_json:
        print_json(run.as_dict())
        return
    cp = run.checkpoint
    console.print(f"Point de contrôle n° {cp.id} : {cp.cases} dossiers, {cp.events} événements, "
                  f"empreinte {cp.digest} (clé {cp.key_id}).", markup=False, soft_wrap=True)
    if run.sent_to:
        console.print(f"Empreinte envoyée ({run.sent_to}) : {'oui' if run.sent_ok else 'ÉCHEC'}.")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} : date invalide « {value} » (attendu : 2026-11-30)")


@audit_app.command("export")
def export_command(
    landlord: str = typer.Option(..., "--landlord", help="Identifiant du bailleur."),
    start: str | None = typer.Option(None, "--from", help="Premier jour (AAAA-MM-JJ)."),
    end: str | None = typer.Option(None, "--to", help="Dernier jour (défaut : aujourd'hui)."),
    fmt: str = typer.Option("json", "--format", help="json, csv ou pdf."),
    output: Path = typer.Option(..., "-o", "--output", help="Fichier à écrire."),
    actor: str = typer.Option(..., "--actor", "-a", help="Qui établit l'export."),
    now: str | None = NowOption,
    as_json: bool = JsonOption,
) -> None:
    """Export signé de la piste d'audit d'un bailleur (jamais l'asile, ni texte libre)."""
    if fmt not in FORMATS:
        fail(f"--format : « {fmt} » inconnu (json, csv ou pdf)")
    moment = resolve_now(now)
    first, last = _day(start, "--from"), _day(end, "--to")
    with unit_of_work(as_json) as session:
        signer = signer_from()
        made = make_export(
            session, landlord, period(first, last, now=moment), fmt, now=moment,
            actor_id=actor, signer=signer, render=render, path=str(output),
        )
        try:
            write_private(output, made.content)
            if made.sidecar is not None:
                write_private(_sidecar(output), (
                    json.dumps(made.sidecar, ensure_ascii=False, indent=2) + "\n"
                ).encode())
        except OSError as error:
            raise InvalidPayload(f"impossible d'écrire {output} : {error.strerror}") from None
    manifest = made.export["manifest"]
    result = {"file": str(output), "format": fmt, "export": made.record_id,
              "cases": manifest["counts"]["cases"], "events": manifest["counts"]["events"],
              "content_sha256": manifest["content_sha256"], "checkpoint": made.checkpoint.id,
              "sidecar": str(_sidecar(output)) if made.sidecar else None}
    if as_json:
        print_json(result)
    else:
        console.print(f"{output} : {result['cases']} dossiers, {result['events']} événements, "
                      f"empreinte {result['content_sha256']}.", markup=False, soft_wrap=True)
        if made.sidecar:
            console.print(f"Manifeste signé : {result['sidecar']}", markup=False, soft_wrap=True)


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


@audit_app.command("verify-export")
def verify_export_command(
    file: Path = typer.Argument(..., help="L'export (JSON, ou CSV/PDF avec son .manifest.json)."),
    public_key: Path | None = PublicKeyOption,
    no_db: bool = typer.Option(False, "--sans-base", help="Ne pas comparer à la base."),
    as_json: bool = JsonOption,
) -> None:
    """Prouve qu'un export n'a pas été modifié (code 1 sinon) et qu'il correspond à la base."""
    try:
        content = file.read_bytes()
    except OSError as error:
        fail(f"fichier illisible : {file} ({error.strerror})")
    key = _public_key(public_key)
    result: dict[str, Any]
    if file.suffix.lower() == ".json" and not file.name.endswith(".manifest.json"):
        try:
            doc = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            result = {"ok": False, "problems": [f"fichier modifié : JSON illisible ({error})"]}
            doc = None
        if doc is not None:
            check = verify_document(doc, key)
            result = check.as_dict()
            if check.ok and not no_db:
                with unit_of_work(as_json, read_only=True) as session:
                    result["problems"] = verify_against_database(session, doc)
                result["ok"] = not result["problems"]
                result["database_checked"] = True
    else:
        result = _verify_other(file, content, key)
    if as_json:
        print_json(result)
    else:
        for note in result.get("notes", []):
            console.print(f"note : {note}", markup=False, soft_wrap=True)
        if result["ok"]:
            console.print(f"Export intègre : {file}"
                          + (" (conforme à la base)" if result.get("database_checked") else ""),
                          markup=False, soft_wrap=True)
        for problem in result["problems"]:
            err_console.print(f"Export ALTÉRÉ — {problem}", markup=False, soft_wrap=True)
    if not result["ok"]:
        raise typer.Exit(1)


def _verify_other(file: Path, content: bytes, key: Ed25519PublicKey | None) -> dict[str, Any]:
    """A CSV or PDF: its SHA-256 against the signed manifest beside it."""
    side = _sidecar(file)
    try:
        sidecar = json.loads(side.read_text())
    except (OSError, ValueError):
        fail(f"manifeste introuvable ou illisible : {side}")
    problem = verify_file_digest(sidecar, content)
    manifest = sidecar.get("manifest", {})
    if problem is None:
        # The sidecar's signature covers the manifest, its counts and the file's SHA-256.
        from processes.audit_export import manifest_message
        from processes.signing import verify

        public = key or load_public(manifest.get("public_key", ""))
        if not verify(public, manifest_message(manifest), manifest.get("signature", "")):
            problem = "manifeste : signature invalide (manifeste modifié)"
    return {"ok": problem is None, "problems": [problem] if problem else [],
            "sha256": hashlib.sha256(content).hexdigest()}


@audit_app.command("keygen")
def keygen_command(
    output: Path = typer.Argument(..., help="Fichier de la clé privée (PEM), hors de la base."),
) -> None:
    """Crée la clé de signature Ed25519 de l'association et affiche sa clé publique."""
    if output.exists():
        fail(f"{output} existe déjà : une clé ne s'écrase pas (les signatures en dépendent)")
    # Owner-only from its first byte: a chmod after writing would leave a moment of 0644.
    write_private(output, new_private_pem().encode())
    signer = signer_from({"SUIVI_AUDIT_KEY_FILE": str(output)})
    console.print(f"Clé privée : {output} (SUIVI_AUDIT_KEY_FILE={output}) ; "
                  f"identifiant {signer.key_id}", markup=False, soft_wrap=True)
    console.print(signer.public_pem, markup=False, soft_wrap=True)


@audit_app.command("public-key")
def public_key_command() -> None:
    """La clé publique à remettre aux bailleurs (PEM), d'après la clé de signature configurée."""
    with unit_of_work():
        signer = signer_from()
    typer.echo(public_pem(signer.private.public_key()), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
