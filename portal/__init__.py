"""The Flask member portal. Importing this package builds nothing: see `portal.app.create_app`."""
