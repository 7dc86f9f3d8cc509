"""Auth use cases, one module per group: accounts, sign_in, factors, reauth, sessions, grants, terms."""
