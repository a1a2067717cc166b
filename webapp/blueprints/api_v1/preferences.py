"""The caller's preferences: the email consents and schedule of the preference centre
(journeys.preferences: every consent change is recorded), interests and language (the
profile: diary.accounts), and personalised suggestions (recommender.privacy).

PATCH changes only the fields sent, with the same rules as the pages.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from diary import accounts
from diary.models import User
from diary.policy import PRIVACY_POLICY_VERSION
from diary.vocabulary import INTERESTS
from journeys import preferences
from journeys.models import EmailPreference
from recommender import privacy as reco_privacy
from webapp.blueprints.api_v1.framework import Call, endpoint
from webapp.database import transaction

TAG = "Preferences"


class PreferencesOut(BaseModel):
    digest_opt_in: bool = Field(description="Consent to the digest emails.")
    marketing_opt_in: bool = Field(description="Consent to marketing email.")
    frequency: str = Field(description="weekly or daily.")
    send_hour: int = Field(description="Local hour the digest goes out.")
    quiet_start: int
    quiet_end: int
    topics: list[str]
    survey_emails: bool = Field(description="Satisfaction surveys by email (a few a year); "
                                "off after an unsubscribe link.")
    paused_until: date | None
    interests: list[str]
    language: str = Field(description="en or zh_CN.")
    personalise_suggestions: bool


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    digest_opt_in: bool | None = None
    marketing_opt_in: bool | None = None
    frequency: Literal["weekly", "daily"] | None = None
    send_hour: int | None = Field(None, ge=0, le=23)
    quiet_start: int | None = Field(None, ge=0, le=23)
    quiet_end: int | None = Field(None, ge=0, le=23)
    topics: list[str] | None = Field(None, max_length=50)
    survey_emails: bool | None = None
    interests: list[str] | None = Field(None, max_length=len(INTERESTS),
                                        description="Any of: " + ", ".join(INTERESTS) + ".")
    language: Literal["en", "zh_CN"] | None = None
    personalise_suggestions: bool | None = None


def _out(call: Call, user: User) -> PreferencesOut:
    schedule = preferences.Schedule.of(call.session.get(EmailPreference, user.id))
    return PreferencesOut(
        digest_opt_in=bool(user.digest_opt_in), marketing_opt_in=bool(user.marketing_opt_in),
        frequency=schedule.frequency, send_hour=schedule.send_hour,
        quiet_start=schedule.quiet_start, quiet_end=schedule.quiet_end,
        topics=list(schedule.topics),
        survey_emails=preferences.wants_survey_email(call.session, user),
        paused_until=schedule.paused_until,
        interests=list(user.interests or []), language=user.locale,
        personalise_suggestions=bool(user.personalise_suggestions))


@endpoint("GET", "/preferences", tag=TAG, summary="Your email, interest and language "
          "preferences", response=PreferencesOut)
def get_preferences(call: Call) -> PreferencesOut:
    return _out(call, call.user)


_EMAIL_FIELDS = ("digest_opt_in", "marketing_opt_in", "frequency", "send_hour", "quiet_start",
                 "quiet_end", "topics", "survey_emails")


@endpoint("PATCH", "/preferences", tag=TAG, scope="write", summary="Change your preferences",
          body=PreferencesIn, response=PreferencesOut)
def patch_preferences(call: Call) -> PreferencesOut:
    """A consent change is recorded (with the time and the privacy policy's version);
    withdrawing the digest consent also stops digests already queued."""
    changes = {k: v for k, v in call.body.model_dump(exclude_unset=True).items()
               if v is not None}
    user = call.user
    with transaction() as s:
        if any(name in changes for name in _EMAIL_FIELDS):
            current = _out(call, user)
            wanted = {name: changes.get(name, getattr(current, name)) for name in _EMAIL_FIELDS}
            preferences.save(s, user, preferences.Choices(
                digest=wanted["digest_opt_in"], marketing=wanted["marketing_opt_in"],
                frequency=wanted["frequency"], send_hour=wanted["send_hour"],
                quiet_start=wanted["quiet_start"], quiet_end=wanted["quiet_end"],
                topics=list(wanted["topics"]), surveys=wanted["survey_emails"]), "api",
                PRIVACY_POLICY_VERSION)
        if "interests" in changes or "language" in changes:
            profile = accounts.profile_of(user)
            accounts.apply_profile(user, dataclasses.replace(
                profile, interests=changes.get("interests", profile.interests),
                locale=changes.get("language", profile.locale)))
        if "personalise_suggestions" in changes:
            reco_privacy.set_personalised(user, changes["personalise_suggestions"])
    return _out(call, user)
