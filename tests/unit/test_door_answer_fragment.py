"""The door's JSON answer carries `_answer.html` filled in from a rendering per shape: it must be the
template's own output, byte for byte, for every shape and whatever the values hold."""

from __future__ import annotations

import itertools
import random
from types import SimpleNamespace
from typing import Any

from flask import Flask
from flask_babel import get_locale

from portal.meetings.views import answer_fragment as fragment_module
from portal.meetings.views.answer_fragment import TEMPLATE, answer_fragment

HOSTILE = "<script>alert(\"x\")</script> & 'quoted' {{ 7*7 }} %(number)s"


def _answers(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    mark = fragment_module._MARK
    words = ["", "Anna de Vries", HOSTILE, f"{mark}title{mark}", "Zoë d'Ancona"]
    answers = []
    for _index in range(count):
        answers.append(
            {
                "outcome": rng.choice(
                    ["checked_in", "already_present", "checked_out", "not_present", "unknown", "not_a_member"]
                ),
                "signal": rng.choice(["vote", "no_vote", "refused"]),
                "title": rng.choice(words[1:]),
                "name": rng.choice([*words, None]),
                "member_number": rng.choice(["", "1000042", HOSTILE]),
                "reasons": rng.sample(["Not on the voter roll", HOSTILE, "Dues not paid"], rng.randint(0, 3)),
                "attendance_id": rng.choice([None, 7, 12345]),
                "checked_in_by": rng.choice(["", "Sam Steward (9744541)", HOSTILE]),
                "checked_in_at": rng.choice(["", "11:39"]),
                "is_override": rng.random() < 0.3,
                "voting_card_number": rng.choice([None, "", "12", HOSTILE]),
                "replayed": rng.random() < 0.3,
                "present": rng.random() < 0.5,
            }
        )
    return answers


def _counter() -> Any:
    numbers = itertools.count()
    return lambda: f"nonce-{next(numbers)}"


def _refilled(answer: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Another answer of the same shape: every set word or id replaced, every empty one kept."""
    mark = fragment_module._MARK
    words = ["Anna de Vries", HOSTILE, f"{mark}title{mark}", "Zoë d'Ancona", "1000043", "12:05"]
    other = dict(answer)
    for name in fragment_module._FILLED:
        if answer[name]:
            other[name] = rng.randint(1, 99_999) if isinstance(answer[name], int) else rng.choice(words)
    other["reasons"] = [rng.choice(words) for _reason in answer["reasons"]]
    return other


def _swapped(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer with each empty value swapped (None and "" print differently): another shape."""
    return {key: ("" if value is None else None if value == "" else value) for key, value in answer.items()}


def test_the_filled_in_fragment_is_the_templates_own_output(app: Flask) -> None:
    """Many answers of each of many shapes, in both languages and at two meetings, in one app (a shape
    rendered once serves the later answers of that shape)."""
    template = app.jinja_env.get_template(TEMPLATE)
    rng = random.Random(7)
    shapes = [variant for answer in _answers(seed=66, count=50) for variant in (answer, _swapped(answer))]
    checked, seen_shapes = 0, set()
    for language in ("nl", "en"):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            assert str(get_locale()) == language
            for shape, meeting_id in itertools.product(shapes, [1, 2]):
                meeting = SimpleNamespace(id=meeting_id)
                for answer in [shape] + [_refilled(shape, rng) for _round in range(3)]:
                    expected = template.render(
                        answer=answer, meeting=meeting, fragment=True, meetings_new_nonce=_counter()
                    )
                    assert answer_fragment(answer, meeting=meeting, nonce=_counter()) == expected, answer
                    seen_shapes.add(fragment_module._shape(answer, meeting.id))
                    checked += 1
    assert checked >= 4 * len(seen_shapes)  # each shape rendered once, then filled in at least 3 times
    assert len(fragment_module._shapes[template]) == len(seen_shapes) <= fragment_module._SHAPES_MAX


def test_a_value_that_looks_like_a_hole_stays_a_value(app: Flask) -> None:
    mark = fragment_module._MARK
    answer = _answers(seed=1, count=1)[0] | {
        "outcome": "checked_in",
        "signal": "vote",
        "name": f"{mark}member_number{mark}",
        "member_number": "1000042",
        "attendance_id": 5,
    }
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        html = answer_fragment(answer, meeting=SimpleNamespace(id=1))
    assert f"{mark}member_number{mark} · 1000042" in html
    assert html.count("1000042") == 1


def test_each_form_gets_a_fresh_nonce(app: Flask) -> None:
    answer = _answers(seed=2, count=1)[0] | {
        "outcome": "already_present",
        "signal": "no_vote",
        "present": True,
        "member_number": "1000042",
    }
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        first = answer_fragment(answer, meeting=SimpleNamespace(id=1))
        second = answer_fragment(answer, meeting=SimpleNamespace(id=1))
    nonces = [part.split('"')[0] for part in (first + second).split('name="nonce" value="')[1:]]
    assert len(nonces) == 4  # override and check-out, twice
    assert len(set(nonces)) == 4
    assert all(len(value) == 32 for value in nonces)


def test_empty_values_of_different_types_are_different_shapes(app: Flask) -> None:
    """0, False, None and "" all test false and print differently."""
    template = app.jinja_env.get_template(TEMPLATE)
    base = _answers(seed=3, count=1)[0] | {
        "outcome": "already_present",
        "signal": "vote",
        "name": "",
        "member_number": "1",
    }
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        for empty in (0, False, None, ""):
            answer = base | {"name": empty, "voting_card_number": empty, "replayed": empty}
            expected = template.render(
                answer=answer, meeting=SimpleNamespace(id=1), fragment=True, meetings_new_nonce=_counter()
            )
            assert answer_fragment(answer, meeting=SimpleNamespace(id=1), nonce=_counter()) == expected, empty


def test_a_reloaded_template_gets_shapes_of_its_own(app: Flask) -> None:
    answer = _answers(seed=4, count=1)[0]
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        first = app.jinja_env.get_template(TEMPLATE)
        answer_fragment(answer, meeting=SimpleNamespace(id=1))
        app.jinja_env.cache.clear()  # as auto-reload does when the file changed
        second = app.jinja_env.get_template(TEMPLATE)
        answer_fragment(answer, meeting=SimpleNamespace(id=1))
    assert first is not second
    assert len(fragment_module._shapes[first]) == len(fragment_module._shapes[second]) == 1
