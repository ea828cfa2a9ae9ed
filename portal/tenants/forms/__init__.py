"""Forms of the tenant category pages, one module per category."""
