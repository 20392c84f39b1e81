"""Importing the directory: an upsert by id, all or nothing, whatever the file's size.

The test database already holds tests/data/directory.yaml (organisation « default »); each
test imports a variant of it and reads back what the tables hold.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from conftest import DIRECTORY
from sqlalchemy import Engine, func, select

from models.db import session_scope
from models.directory import Dwelling, Landlord, Organisation, Resident, Site, Staff, StaffSite
from models.directory_io import DirectoryError, ImportSummary, import_directory, parse_directory

TABLES = (Organisation, Landlord, Site, Dwelling, Resident, Staff, StaffSite)


def the_test_directory() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    return copy.deepcopy(document)


def load(engine: Engine, document: dict[str, Any]) -> ImportSummary:
    with session_scope(engine) as session:
        return import_directory(
            session, parse_directory(yaml.safe_dump(document, allow_unicode=True))
        )


def everything(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every directory table, in a comparable form."""
    with session_scope(engine) as session:
        return {
            model.__tablename__: sorted(
                tuple(str(v) for v in row)
                for row in session.execute(select(*model.__table__.columns)).all()
            )
            for model in TABLES
        }


def counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in TABLES
        }


def test_importing_the_same_file_again_updates_every_row_and_creates_none(
    engine: Engine,
) -> None:
    before = everything(engine)
    summary = load(engine, the_test_directory())
    assert summary.created == {}
    assert summary.updated == {
        "organisation": 1,
        "landlords": 2,
        "sites": 3,
        "dwellings": 4,
        "staff": 11,
        "residents": 4,
    }
    assert everything(engine) == before


def test_an_edited_file_changes_names_moves_residents_and_rewrites_staff_sites(
    engine: Engine,
) -> None:
    document = the_test_directory()
    document["organisation"]["name"] = "Association Horizon (renommée)"
    document["dwellings"].append({"id": "viala-216", "site": "viala", "label": "Logement 216"})
    fatima = next(r for r in document["residents"] if r["id"] == "r-0002")
    fatima.update(name="Fatima Benali-Roux", dwelling="viala-216",
                  contact={"email": "fatima@example.org"}, consent=True)
    document["residents"].append({"id": "r-0005", "name": "Léa Fabre", "dwelling": "viala-216"})
    rgls = next(p for p in document["staff"] if p["id"] == "rgls-sud")
    rgls["sites"] = ["chartreux", "cada"]  # leaves viala, keeps chartreux, takes the CADA
    admin = next(p for p in document["staff"] if p["id"] == "admin")
    admin["notify"] = ["mailto://admin@example.org"]
    gs = next(p for p in document["staff"] if p["id"] == "gs-chartreux")
    gs.update(active=False, language="en")

    summary = load(engine, document)

    assert summary.created == {"dwellings": 1, "residents": 1}
    assert summary.updated["residents"] == 4 and summary.updated["dwellings"] == 4
    with session_scope(engine) as session:
        org = session.get(Organisation, "default")
        assert org is not None and org.name == "Association Horizon (renommée)"
        moved = session.get(Resident, "r-0002")
        assert moved is not None
        assert (moved.name, moved.dwelling_id, moved.email, moved.phone, moved.consent) == (
            "Fatima Benali-Roux", "viala-216", "fatima@example.org", None, True
        )
        new = session.get(Resident, "r-0005")
        assert new is not None and (new.name, new.dwelling_id, new.consent) == (
            "Léa Fabre", "viala-216", False
        )
        nadia = session.get(Staff, "rgls-sud")
        assert nadia is not None and nadia.site_ids == ["cada", "chartreux"]
        boss = session.get(Staff, "admin")
        assert boss is not None and boss.notify == ["mailto://admin@example.org"]
        assert boss.all_sites and boss.site_ids == []
        luc = session.get(Staff, "gs-chartreux")
        assert luc is not None and (luc.active, luc.language) == (False, "en")


def test_a_person_given_every_site_loses_the_list_and_back(engine: Engine) -> None:
    document = the_test_directory()
    rgls = next(p for p in document["staff"] if p["id"] == "rgls-sud")
    rgls["sites"] = "all"
    load(engine, document)
    with session_scope(engine) as session:
        nadia = session.get(Staff, "rgls-sud")
        assert nadia is not None and nadia.all_sites and nadia.site_ids == []
    rgls["sites"] = ["viala"]
    load(engine, document)
    with session_scope(engine) as session:
        nadia = session.get(Staff, "rgls-sud")
        assert nadia is not None and not nadia.all_sites and nadia.site_ids == ["viala"]


def test_what_the_file_no_longer_lists_stays_in_the_database(engine: Engine) -> None:
    """People leave through `active: false`, never by vanishing from a file: cases and
    history point at them."""
    before = counts(engine)
    document = the_test_directory()
    document["residents"] = document["residents"][:1]
    document["staff"] = []
    load(engine, document)
    assert counts(engine) == before


def test_a_file_may_point_at_what_an_earlier_import_wrote(engine: Engine) -> None:
    summary = load(
        engine,
        {
            "organisation": {"name": "Association Horizon (tests)"},
            "dwellings": [{"id": "viala-300", "site": "viala", "label": "Logement 300",
                           "landlord": "unicil"}],
            "residents": [{"id": "r-0300", "name": "Noé Garnier", "dwelling": "chartreux-12"}],
            "staff": [{"id": "gs-bis", "name": "Eva Blanc", "role": "gs",
                       "sites": ["viala", "cada"]}],
        },
    )
    assert summary.created == {"dwellings": 1, "residents": 1, "staff": 1}
    with session_scope(engine) as session:
        eva = session.get(Staff, "gs-bis")
        assert eva is not None and eva.site_ids == ["cada", "viala"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["residents"].append(
                {"id": "r-0009", "name": "Nina Perrin", "dwelling": "viala-999"}
            ),
            "résident r-0009 : logement « viala-999 » inconnu",
        ),
        (
            lambda d: d["dwellings"].append({"id": "x-1", "site": "nulle-part", "label": "X"}),
            "logement x-1 : site « nulle-part » inconnu",
        ),
        (
            lambda d: d["sites"].append(
                {"id": "s-2", "name": "S", "kind": "residence", "landlord": "personne"}
            ),
            "site s-2 : bailleur « personne » inconnu",
        ),
        (
            lambda d: d["staff"].append(
                {"id": "gs-2", "name": "G", "role": "gs", "sites": ["viala", "ailleurs"]}
            ),
            "personnel gs-2 : site « ailleurs » inconnu",
        ),
        (
            lambda d: d["organisation"].update(id="une-autre"),
            "la base appartient déjà à l'organisation « default », pas « une-autre »",
        ),
    ],
)
def test_a_bad_reference_is_named_and_nothing_is_written(
    engine: Engine, edit: Any, message: str
) -> None:
    document = the_test_directory()
    # Edits that would otherwise be written, to prove the refusal wrote none of them.
    document["residents"][0]["name"] = "Jean Dupont (modifié)"
    document["residents"].append({"id": "r-0010", "name": "Tom Petit", "dwelling": "viala-215"})
    edit(document)
    before = everything(engine)
    with pytest.raises(DirectoryError) as refused:
        load(engine, document)
    assert str(refused.value) == message
    assert everything(engine) == before


def test_the_first_bad_reference_in_file_order_is_the_one_named(engine: Engine) -> None:
    document = the_test_directory()
    document["residents"] += [
        {"id": f"r-1{n:03}", "name": f"Personne {n}", "dwelling": f"nulle-part-{n}"}
        for n in range(3)
    ]
    with pytest.raises(DirectoryError, match="^résident r-1000 : logement « nulle-part-0 »"):
        load(engine, document)


def test_twice_the_same_id_is_refused_with_every_duplicate_listed() -> None:
    document = the_test_directory()
    document["residents"] += [
        {"id": "r-0003", "name": "Encore"},
        {"id": "r-0001", "name": "Encore"},
        {"id": "r-0001", "name": "Et encore"},
    ]
    with pytest.raises(DirectoryError) as refused:
        parse_directory(yaml.safe_dump(document, allow_unicode=True), "annuaire.yaml")
    assert str(refused.value) == (
        "annuaire.yaml : 1 erreur(s) : annuaire : "
        "residents : identifiant(s) en double : r-0001, r-0003"
    )
