"""Staff of the certifying body: accounts, roles per issuer, sign-in and browser sessions."""
