"""The directory: who and where. Organisation, landlords, sites, dwellings, residents, staff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JSONType

SITE_KINDS = ("residence", "cada", "traveller_site")
STAFF_ROLES = (
    "agent",
    "gs",
    "rgls",
    "dgls",
    "juriste",
    "social_worker",
    "cada_manager",
    "landlord",
    "admin",
)
# Roles that may be given `sites: all` in the directory file.
ORGANISATION_WIDE_ROLES = ("dgls", "rgls", "admin")


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    language: Mapped[str] = mapped_column(String(8), default="fr")
    address: Mapped[str | None] = mapped_column(String(400))
    base_url: Mapped[str | None] = mapped_column(String(400))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Landlord(Base):
    __tablename__ = "landlords"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    landlord_id: Mapped[str | None] = mapped_column(ForeignKey("landlords.id"))
    town: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(400))

    landlord: Mapped[Landlord | None] = relationship()


class Dwelling(Base):
    __tablename__ = "dwellings"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    # A dwelling may belong to another landlord than its site's (mixed residences).
    landlord_id: Mapped[str | None] = mapped_column(ForeignKey("landlords.id"))

    site: Mapped[Site] = relationship()


class Resident(Base):
    __tablename__ = "residents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    dwelling_id: Mapped[str | None] = mapped_column(ForeignKey("dwellings.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    # Residents are told of appointments only when they agreed to it.
    consent: Mapped[bool] = mapped_column(default=False)

    dwelling: Mapped[Dwelling | None] = relationship()


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32), index=True)
    all_sites: Mapped[bool] = mapped_column(default=False)
    landlord_id: Mapped[str | None] = mapped_column(ForeignKey("landlords.id"))
    # Apprise URLs; empty means the console channel of the embedded default.
    notify: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)

    site_links: Mapped[list[StaffSite]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def site_ids(self) -> list[str]:
        return sorted(link.site_id for link in self.site_links)

    def covers(self, site_id: str) -> bool:
        return self.all_sites or any(link.site_id == site_id for link in self.site_links)


class StaffSite(Base):
    __tablename__ = "staff_sites"

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True, index=True)
