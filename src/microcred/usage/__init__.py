"""Usage of credentials counted by the service itself: page views, LinkedIn clicks, downloads,
verifications. Counts per credential and day only; no tracker, no personal data."""
