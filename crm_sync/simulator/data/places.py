"""Provinces, postcode ranges, street names and mail domains for generated addresses."""

from typing import Final

# Word lists stay packed several to a line: one per line would make this file unreadable.
# fmt: off
#: (code, name, [(first postcode digits, last postcode digits), ...]) — the ranges follow
#: the real Dutch postcode map closely enough that the first digit says the region.
PROVINCES: Final[tuple[tuple[str, str, tuple[tuple[int, int], ...]], ...]] = (
    ("GR", "Groningen", ((9500, 9999),)),
    ("FR", "Fryslân", ((8400, 9299),)),
    ("DR", "Drenthe", ((7700, 7999), (9300, 9499))),
    ("OV", "Overijssel", ((7400, 7699), (8000, 8199))),
    ("FL", "Flevoland", ((1300, 1399), (8200, 8399))),
    ("GE", "Gelderland", ((3770, 3899), (4000, 4199), (6500, 7399))),
    ("UT", "Utrecht", ((3400, 3769),)),
    ("NH", "Noord-Holland", ((1000, 1299), (1400, 1999), (2000, 2199))),
    ("ZH", "Zuid-Holland", ((2200, 3399), (4200, 4299))),
    ("ZE", "Zeeland", ((4300, 4599),)),
    ("NB", "Noord-Brabant", ((4600, 5799),)),
    ("LI", "Limburg", ((5800, 6499),)),
)

#: Letter pairs that PostNL never hands out in a postcode.
FORBIDDEN_POSTCODE_LETTERS: Final[frozenset[str]] = frozenset({"SS", "SA", "SD"})

STREET_STEMS: Final[tuple[str, ...]] = (
    "Dorps", "Kerk", "Molen", "School", "Heren", "Keizers", "Prinsen", "Wilhelmina",
    "Juliana", "Beatrix", "Oranje", "Nassau", "Linden", "Eiken", "Beuken", "Berken",
    "Rozen", "Tulpen", "Kastanje", "Esdoorn", "Wilgen", "Populieren", "Hazelaar", "Vlier",
    "Merel", "Lijster", "Zwaluw", "Kievit", "Reiger", "Meeuwen", "Spoor", "Stations",
    "Haven", "Markt", "Brink", "Veld", "Akker", "Weide", "Heide", "Duin", "Zee", "Polder",
    "Rembrandt", "Vermeer", "Van Gogh", "Mondriaan", "Erasmus", "Spinoza", "Thorbecke",
    "Multatuli", "Vondel", "Huygens", "Leeghwater", "Lorentz", "Kamerlingh Onnes",
    "Burgemeester de Withe", "Dokter Schaepman", "Pastoor van Arskloster", "Julianadorp",
    "Koning Willem-Alexander", "Prins Bernhard", "Koningin Emma", "Graaf Florisz",
)

STREET_SUFFIXES: Final[tuple[str, ...]] = (
    "straat", "straat", "straat", "weg", "weg", "laan", "laan", "plein", "gracht", "dijk",
    "kade", "singel", "hof", "pad", "steeg", "dreef", "park", "erf", "veld", "wal",
)

#: House-number suffixes as found in the BAG: letters, "bis" and floor numbers.
HOUSE_NUMBER_SUFFIXES: Final[tuple[str, ...]] = (
    "a", "b", "c", "A", "bis", "-2", "-3", "-hs", "-1", "II", "rd",
)

MAIL_DOMAINS: Final[tuple[str, ...]] = (
    "gmail.com", "gmail.com", "gmail.com", "hotmail.com", "hotmail.com", "outlook.com",
    "live.nl", "ziggo.nl", "kpnmail.nl", "xs4all.nl", "planet.nl", "home.nl", "icloud.com",
    "protonmail.com", "hetnet.nl", "casema.nl", "upcmail.nl", "telfort.nl", "yahoo.com",
)

#: Area codes for the occasional landline number.
AREA_CODES: Final[tuple[str, ...]] = (
    "010", "020", "030", "040", "050", "070", "071", "072", "073", "075", "076", "079",
    "0113", "0183", "0229", "0294", "0314", "0318", "0341", "0413", "0475", "0492", "0513",
)
# fmt: on
