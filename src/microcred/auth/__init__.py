"""API clients: issuer-scoped and admin API keys, stored hashed, and the Principal they yield."""
