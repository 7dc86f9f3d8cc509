"""Dutch names display, sort and search the way Dutch readers expect."""

from portal.members import names


def test_display_and_formal_names_keep_the_infix_in_place() -> None:
    assert names.display_name("Jan", "de", "Vries") == "Jan de Vries"
    assert names.display_name("Eva", "", "Jansen") == "Eva Jansen"
    assert names.formal_name("Jan", "van der", "Berg") == "Berg, Jan van der"
    assert names.formal_name("", "", "Bakker") == "Bakker"


def test_sorting_ignores_the_tussenvoegsel() -> None:
    people = [("Jan", "de", "Vries"), ("Piet", "", "Visser"), ("Anna", "van", "Dijk"), ("Kees", "", "Wit")]
    ordered = sorted(people, key=lambda p: names.sort_key(*p))
    assert [p[2] for p in ordered] == ["Dijk", "Visser", "Vries", "Wit"]


def test_folding_drops_diacritics_case_and_punctuation() -> None:
    assert names.fold("Öztürk") == "ozturk"
    assert names.fold("Zoë d'Hondt-Çelik") == "zoe d hondt celik"
    assert names.fold("  René   ") == "rene"
    assert names.search_text("Jan", "de", "Vries") == "vries de jan"
