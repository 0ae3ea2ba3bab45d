"""Learner emails: when a credential is issued (or, if the issuer asks, revoked), the learner
hears of it. :mod:`.outbox` writes the email into the award's transaction; :mod:`.sender` sends
it, at each issuer's rate, retrying with backoff."""
