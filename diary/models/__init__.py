"""Tables of the diary package, re-exported so callers write `from diary.models import Child`."""
from diary.models.accounts import AccessToken, AccountEmail, Consent, StaffRole, User, UserSession
from diary.models.audit import StaffAccess, StaffAccessSubject
from diary.models.daily import Timer, Vaccination
from diary.models.entries import Entry, Measurement, Photo
from diary.models.family import Child, Family, Invitation, Membership, Relationship, Role
from diary.models.privacy import DataExport

__all__ = [
    "AccessToken",
    "AccountEmail",
    "Child",
    "Consent",
    "DataExport",
    "Entry",
    "Family",
    "Invitation",
    "Measurement",
    "Membership",
    "Photo",
    "Relationship",
    "Role",
    "StaffAccess",
    "StaffAccessSubject",
    "StaffRole",
    "Timer",
    "User",
    "UserSession",
    "Vaccination",
]
