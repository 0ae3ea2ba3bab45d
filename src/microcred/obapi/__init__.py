"""The 1EdTech Open Badges 3.0 API (https://www.imsglobal.org/spec/ob/v3p0/#api): a service
description for discovery, and, for the learner behind an OAuth 2.0 access token, their
credentials (getCredentials, upsertCredential) and their profile (getProfile, putProfile)."""
