"""`N_`: marks an English message in a module without Flask, so the catalog extractor finds it.

The view that shows the message translates it (`gettext(message)`); the pure module stays Flask-free.
"""


def N_(message: str) -> str:
    """The message itself, marked for translation."""
    return message
