"""The door's answer fragment for its script, rendered once per shape and then filled in.

`meetings/_answer.html` stays the one template of the answer (the page without JavaScript renders it as
is). For the door's JSON answers, the hot path at doors opening, rendering it took about a sixth of a
check-in's Python calls. An answer's markup only changes with its *shape*: the outcome and signal, the
flags, which fields are empty, how many reasons, the meeting and the language. So the template is
rendered once per shape with holes, random markers, where the answer's own words go (title, name,
number, reasons, ids, the forms' nonces). Later answers of that shape get the holes filled with their
values, escaped as the template escapes them, in one pass: a value is never scanned for holes again,
whatever it holds. `tests/unit/test_door_answer_fragment.py` checks that the result is the template's
own, byte for byte, over hundreds of shapes drawn at random with hostile values.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from weakref import WeakKeyDictionary

from flask import current_app, request
from flask_babel import get_locale
from jinja2 import Template
from markupsafe import escape

from portal.meetings.views.web import new_nonce

TEMPLATE = "meetings/_answer.html"
# The answer's words and ids: holes when set. Its other values (outcome, signal, flags) shape the markup.
_FILLED = (
    "title",
    "name",
    "member_number",
    "attendance_id",
    "voting_card_number",
    "checked_in_by",
    "checked_in_at",
)
_MARK = "lphole" + secrets.token_hex(6)  # letters and digits only: escaping leaves it as it is
_HOLE = re.compile(_MARK + "([a-z_0-9]+?)" + _MARK)
_SHAPES_MAX = 512  # per template object (a template reloaded in development is a new one)
_Split = tuple[tuple[str, ...], tuple[str, ...]]
_shapes: WeakKeyDictionary[Template, dict[tuple[Any, ...], _Split]] = WeakKeyDictionary()


def _hole(name: str) -> str:
    return f"{_MARK}{name}{_MARK}"


def _shape(answer: Mapping[str, Any], meeting_id: int) -> tuple[Any, ...]:
    """What the markup depends on besides the holes' values: the meeting and the URL prefix (its forms'
    addresses), the language, and the answer's other values. An empty value is part of the shape (the
    template tests it, and prints it as it is: None, "" and 0 differ), a set one only as being set."""
    filled = tuple((type(answer[name]), answer[name]) if not answer[name] else True for name in _FILLED)
    shaping = tuple(
        (key, type(value), value)
        for key, value in sorted(answer.items())
        if key not in _FILLED and key != "reasons"
    )
    return (meeting_id, request.script_root, str(get_locale()), len(answer["reasons"]), filled, shaping)


def _render_shape(template: Template, answer: Mapping[str, Any], meeting: Any) -> _Split:
    """The template rendered with holes, split at them: the literal parts and the holes' names between."""
    nonces = itertools.count()
    holed = {
        **answer,
        **{name: _hole(name) for name in _FILLED if answer[name]},
        "reasons": [_hole(f"reason{index}") for index in range(len(answer["reasons"]))],
    }
    rendered = template.render(
        answer=holed,
        meeting=meeting,
        fragment=True,
        meetings_new_nonce=lambda: _hole(f"nonce{next(nonces)}"),
    )
    parts = _HOLE.split(rendered)  # literal, name, literal, name, …, literal
    return tuple(parts[0::2]), tuple(parts[1::2])


def answer_fragment(answer: Mapping[str, Any], *, meeting: Any, nonce: Callable[[], str] = new_nonce) -> str:
    """The fragment `_answer.html` renders for `answer` (as `describe` gives it) at `meeting`, each of its
    forms with a fresh `nonce()`."""
    template = current_app.jinja_env.get_template(TEMPLATE)
    shapes = _shapes.setdefault(template, {})
    shape = _shape(answer, meeting.id)
    split = shapes.get(shape)
    if split is None:
        split = _render_shape(template, answer, meeting)
        if len(shapes) >= _SHAPES_MAX:  # a great many meetings: start again
            shapes.clear()
        shapes[shape] = split
    literals, holes = split
    values = {name: str(escape(answer[name])) for name in _FILLED if answer[name]}
    values.update((f"reason{index}", str(escape(reason))) for index, reason in enumerate(answer["reasons"]))
    pieces = [literals[0]]
    for name, literal in zip(holes, literals[1:], strict=True):
        pieces += (nonce() if name.startswith("nonce") else values[name], literal)
    return "".join(pieces)
