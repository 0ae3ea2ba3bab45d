"""Endorsements: one issuer's signed OB 3.0 EndorsementCredential about another issuer's profile
or achievement, embedded in the credentials awarded while it stands."""
