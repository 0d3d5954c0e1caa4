"""Security: client API keys and secrets (API keys, OAuth tokens) kept out of the database."""
