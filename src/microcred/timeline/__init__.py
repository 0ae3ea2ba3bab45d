"""A credential's story for the issuer's staff: issued, used, changed, and told to webhooks."""
