"""An issuer's figures at a glance, for its staff."""
