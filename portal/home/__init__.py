"""The public landing page, language choice and the health check."""
