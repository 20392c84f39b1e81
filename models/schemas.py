"""Pydantic schemas: the directory file (input) and the views of cases (output)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.directory import ORGANISATION_WIDE_ROLES
from models.settings import OrganisationSettings, check_email, check_phone, check_timezone
from models.text import Address, Identifier, Name, Town, Url

SiteKind = Literal["residence", "cada", "traveller_site"]
Role = Literal[
    "agent", "gs", "rgls", "dgls", "juriste", "social_worker", "cada_manager", "landlord", "admin"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganisationIn(Strict):
    id: Identifier = "default"
    name: Name
    timezone: str = "Europe/Paris"
    language: Literal["fr", "en"] = "fr"
    address: Address | None = None
    base_url: Address | None = None
    settings: OrganisationSettings = Field(default_factory=OrganisationSettings)

    _timezone = field_validator("timezone")(check_timezone)


class LandlordIn(Strict):
    id: Identifier
    name: Name


class SiteIn(Strict):
    id: Identifier
    name: Name
    kind: SiteKind
    landlord: Identifier | None = None
    town: Town | None = None
    address: Address | None = None


class DwellingIn(Strict):
    id: Identifier
    site: Identifier
    label: Name
    landlord: Identifier | None = None


class ContactIn(Strict):
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)

    _email = field_validator("email")(check_email)
    _phone = field_validator("phone")(check_phone)


class ResidentIn(Strict):
    id: Identifier
    name: Name
    dwelling: Identifier | None = None
    contact: ContactIn = Field(default_factory=ContactIn)
    consent: bool = False


class StaffIn(Strict):
    id: Identifier
    name: Name
    role: Role
    sites: list[Identifier] | Literal["all"] = Field(default_factory=list)
    landlord: Identifier | None = None
    notify: list[Url] = Field(default_factory=list)
    language: Literal["fr", "en"] | None = None
    active: bool = True

    @field_validator("notify", mode="before")
    @classmethod
    def _one_url(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _scope(self) -> StaffIn:
        if self.sites == "all" and self.role not in ORGANISATION_WIDE_ROLES:
            raise ValueError(
                f"{self.id} (rôle {self.role}) : `sites: all` est réservé aux rôles "
                f"{', '.join(ORGANISATION_WIDE_ROLES)} ; donnez la liste de ses sites"
            )
        if self.role == "landlord" and not self.landlord:
            raise ValueError(f"{self.id} (rôle landlord) : indiquez son bailleur, `landlord: <id>`")
        return self


class DirectoryFile(Strict):
    organisation: OrganisationIn
    landlords: list[LandlordIn] = Field(default_factory=list)
    sites: list[SiteIn] = Field(default_factory=list)
    dwellings: list[DwellingIn] = Field(default_factory=list)
    staff: list[StaffIn] = Field(default_factory=list)
    residents: list[ResidentIn] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> DirectoryFile:
        """Every reference must point inside the file or already be in the database; the file's
        own references are checked here, the rest when it is imported."""
        problems = []
        for what, items in (
            ("landlords", self.landlords),
            ("sites", self.sites),
            ("dwellings", self.dwellings),
            ("staff", self.staff),
            ("residents", self.residents),
        ):
            # Counted once: `list.count` per id made a 100,000-resident file take minutes.
            dupes = sorted(i for i, n in Counter(i.id for i in items).items() if n > 1)
            if dupes:
                problems.append(f"{what} : identifiant(s) en double : {', '.join(dupes)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class EventView(BaseModel):
    seq: int
    trigger: str
    from_: str | None = Field(serialization_alias="from")
    to: str
    actor: str
    role: str
    at: datetime
    payload: dict[str, Any]
    hash: str = ""
    """Its link in the case's hash chain (`suivi audit verify`, landlord exports)."""


class ClockView(BaseModel):
    id: int
    name: str
    kind: str
    due_at: datetime
    action: str
    status: str
    rule: str
    recipients: list[str]


class CaseView(BaseModel):
    id: int
    reference: str
    process: str
    version: int
    state: str
    state_label: str
    closed: bool
    resident: str
    resident_name: str
    dwelling: str | None
    site: str
    opened_at: datetime
    closed_at: datetime | None
    record_version: int
    data: dict[str, Any]
    allowed_triggers: list[str]
    history: list[EventView]
    clocks: list[ClockView]
