"""Upstream providers: the declarative catalog (resources/providers.toml) and its schema."""
