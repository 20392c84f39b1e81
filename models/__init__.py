"""The database: directory, cases, events, clocks and the notification outbox.

Nothing here imports the engine, the flows or the interfaces.
"""

from models.admin import AdminAct, DatabaseMark
from models.audit import AuditCheckpoint, AuditCheckpointHead, AuditExport
from models.auth import ApiToken, Credential, LoginAttempt
from models.base import Base
from models.cases import Case, CaseEvent, Clock, Notification, NotificationAttempt
from models.directory import Dwelling, Landlord, Organisation, Resident, Site, Staff, StaffSite
from models.portal import LandlordRead

__all__ = [
    "AuditCheckpoint",
    "AuditCheckpointHead",
    "AuditExport",
    "AdminAct",
    "ApiToken",
    "Credential",
    "DatabaseMark",
    "LoginAttempt",
    "Base",
    "Case",
    "CaseEvent",
    "Clock",
    "Dwelling",
    "Landlord",
    "LandlordRead",
    "Notification",
    "NotificationAttempt",
    "Organisation",
    "Resident",
    "Site",
    "Staff",
    "StaffSite",
]
