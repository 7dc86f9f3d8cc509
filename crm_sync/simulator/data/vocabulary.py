"""Party vocabularies: unit names, interests, competences and mailing groups."""

from typing import Final

PARTY_NAME: Final = "Vrijzinnig Democraten"
PARTY_CODE: Final = "NL"
YOUTH_ORGANISATION_NAME: Final = "Jonge Vrijzinnigen"

#: (code, name) of the knowledge groups (thema-afdelingen) under national.
KNOWLEDGE_GROUPS: Final[tuple[tuple[str, str], ...]] = (
    ("TA-KLE", "Klimaat & Energie"),
    ("TA-OND", "Onderwijs"),
    ("TA-ZRG", "Zorg"),
    ("TA-EUR", "Europa"),
    ("TA-DIG", "Digitale Samenleving"),
    ("TA-WON", "Wonen & Ruimte"),
    ("TA-ECO", "Economie & Financiën"),
    ("TA-JUS", "Justitie & Veiligheid"),
    ("TA-BUI", "Buitenland & Defensie"),
    ("TA-LAN", "Landbouw & Natuur"),
    ("TA-MOB", "Mobiliteit"),
    ("TA-CUL", "Cultuur & Media"),
    ("TA-SOC", "Sociale Zaken & Werk"),
    ("TA-MIG", "Migratie & Integratie"),
    ("TA-DEM", "Democratie & Bestuur"),
)

#: (code, name) of the national committees.
NATIONAL_COMMITTEES: Final[tuple[tuple[str, str], ...]] = (
    ("CIE-KAN", "Kandidaatstellingscommissie"),
    ("CIE-BER", "Commissie van Beroep"),
    ("CIE-FIN", "Financiële Commissie"),
    ("CIE-VKP", "Verkiezingsprogrammacommissie"),
    ("CIE-CON", "Congrescommissie"),
)

#: (code, name) of the national factions.
NATIONAL_FACTIONS: Final[tuple[tuple[str, str], ...]] = (
    ("FR-TK", "Tweede Kamerfractie"),
    ("FR-EK", "Eerste Kamerfractie"),
    ("FR-EP", "Delegatie Europees Parlement"),
)

INTERESTS: Final[tuple[str, ...]] = (
    "Klimaat",
    "Energie",
    "Onderwijs",
    "Zorg",
    "Europa",
    "Digitalisering",
    "Privacy",
    "Wonen",
    "Economie",
    "Ondernemerschap",
    "Cultuur",
    "Sport",
    "Mobiliteit",
    "Landbouw",
    "Natuur",
    "Veiligheid",
    "Rechtsstaat",
    "Migratie",
    "Emancipatie",
    "LHBTIQ+",
    "Ontwikkelingssamenwerking",
    "Defensie",
    "Arbeidsmarkt",
    "Armoede",
    "Jeugd",
    "Ouderen",
    "Wetenschap",
    "Democratie",
    "Lokale politiek",
    "Duurzaamheid",
)

COMPETENCES: Final[tuple[str, ...]] = (
    "Campagne voeren",
    "Flyeren",
    "Social media",
    "Fotografie",
    "Video",
    "Schrijven",
    "Redactie",
    "Vormgeving",
    "Penningmeester",
    "Boekhouding",
    "Juridisch advies",
    "Debatteren",
    "Presenteren",
    "Trainen",
    "Coachen",
    "Evenementen organiseren",
    "Websitebeheer",
    "Data-analyse",
    "Fondsenwerving",
    "Ledenwerving",
    "Voorzitten",
    "Notuleren",
    "Vertalen",
    "Beleidsonderzoek",
    "Woordvoering",
)

#: (name, title) of the mailing groups.
MAILING_GROUPS: Final[tuple[tuple[str, str], ...]] = (
    ("Nieuwsbrief", "Nieuwsbrief"),
    ("Vrijwilligers", "Vrijwilligers"),
    ("Congresgangers", "Congresgangers"),
)
