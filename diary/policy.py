"""The privacy promise's version: bumped whenever the promise changes.

Consent records keep the version a person agreed to (PIPL / GDPR evidence), so it belongs
with the consents, not with the deployment's configuration.
"""
PRIVACY_POLICY_VERSION = "2026-11"
