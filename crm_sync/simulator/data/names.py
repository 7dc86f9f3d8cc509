"""Given names and family names for generated people, including diacritics and tussenvoegsels."""

from typing import Final

# Word lists stay packed several to a line: one per line would make this file unreadable.
# fmt: off
FEMALE_GIVEN_NAMES: Final[tuple[str, ...]] = (
    "Anna", "Emma", "Julia", "Sophie", "Tess", "Zoë", "Mila", "Sara", "Eva", "Lotte",
    "Fleur", "Lisa", "Noor", "Saar", "Anouk", "Femke", "Iris", "Sanne", "Lieke", "Marloes",
    "Inge", "Karin", "Monique", "Petra", "Marieke", "Esther", "Judith", "Annemarie", "Ingrid",
    "Wilma", "Anneke", "Margriet", "Hanneke", "Ria", "Truus", "Gerda", "Joke", "Corrie",
    "Els", "Marijke", "Mirjam", "Yvonne", "Sandra", "Nicole", "Linda", "Chantal", "Nathalie",
    "Renée", "Chloë", "Noëlle", "Anaïs", "Inès", "Loïs", "Daniëlle", "Michèle", "Hélène",
    "Fatima", "Aïcha", "Samira", "Yasmina", "Nour", "Layla", "Ayşe", "Elif", "Zeynep",
    "Büşra", "Çağla", "Priya", "Anjali", "Mei", "Xiu", "Agnieszka", "Małgorzata", "Olga",
    "Jolien", "Maaike", "Roos", "Lieve", "Jasmijn", "Floor", "Isa", "Nina", "Merel", "Evi",
    "Britt", "Amber", "Demi", "Kim", "Naomi", "Rosa", "Veerle", "Wendy", "Astrid", "Ellen",
    "Hester", "Bregje", "Geertje", "Tineke", "Jantine", "Sietske", "Froukje", "Aukje",
)

MALE_GIVEN_NAMES: Final[tuple[str, ...]] = (
    "Jan", "Piet", "Kees", "Henk", "Gerrit", "Willem", "Johannes", "Cornelis", "Hendrik",
    "Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Bram", "Thijs", "Jesse", "Ruben",
    "Lars", "Tim", "Tom", "Niels", "Sander", "Bas", "Joost", "Maarten", "Pieter", "Jeroen",
    "Mark", "Erik", "Rob", "Frank", "Hans", "Ton", "Wim", "Arie", "Dirk", "Klaas", "Sjoerd",
    "Wouter", "Jasper", "Stijn", "Koen", "Rik", "Gijs", "Job", "Teun", "Hidde", "Siebe",
    "René", "Joël", "Daniël", "Michaël", "Raphaël", "Noël", "Gaël", "André", "Jérôme",
    "Frédéric", "Mohamed", "Ahmed", "Youssef", "Ayoub", "Bilal", "Hamza", "Mehmet", "Mustafa",
    "Ömer", "Emre", "Burak", "Çağan", "Rajesh", "Arjun", "Wei", "Tomasz", "Paweł", "Jakub",
    "Ñaki", "Jorge", "Mateo", "Ivan", "Dimitri", "Olaf", "Reinier", "Rutger", "Floris",
    "Jelle", "Wessel", "Ties", "Mees", "Luuk", "Stefan", "Martijn", "Vincent", "Edwin",
    "Herman", "Berend", "Geert", "Harm", "Jochem", "Auke", "Tjeerd", "Wiebe", "Douwe",
)

OTHER_GIVEN_NAMES: Final[tuple[str, ...]] = (
    "Sam", "Alex", "Robin", "Kai", "Noa", "Charlie", "Jip", "Sasha", "Eden", "Lou",
)

#: Family names that are used without a tussenvoegsel.
PLAIN_FAMILY_NAMES: Final[tuple[str, ...]] = (
    "Jansen", "Janssen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos",
    "Peters", "Hendriks", "Dekker", "Brouwer", "Dijkstra", "Smits", "Willems", "Verhoeven",
    "Kok", "Jacobs", "Vermeulen", "Schouten", "Willemsen", "Hoekstra", "Koster", "Prins",
    "Maas", "Post", "Kuipers", "Huisman", "Kramer", "Scholten", "Wijnands", "Gerritsen",
    "Postma", "Peeters", "Evers", "Hermans", "Kuiper", "Veenstra", "Boer", "Martens",
    "Sanders", "Timmermans", "Molenaar", "Verbeek", "Claassen", "Koning", "Wouters",
    "Blom", "Groen", "Bosman", "Hofman", "Vink", "Lammers", "Mertens", "Kuijpers", "Adriaans",
    "Geurts", "Boersma", "Bouwman", "Wolters", "Dijkman", "Huijbers", "Zijlstra", "Mol",
    "Kooistra", "Wiersma", "Terpstra", "Heijnen", "Franssen", "Verschoor", "Rutten",
    "Öztürk", "Çelik", "Şahin", "Yılmaz", "Kaya", "Demir", "Aydın", "Koç", "Gökçe",
    "El Amrani", "Bouzid", "Benali", "Ouali", "Haddou", "Tahiri", "Ramdin", "Sewnath",
    "Nguyen", "Tran", "Chen", "Wang", "Kowalski", "Nowak", "Wiśniewski", "Müller",
    "Schäfer", "Ñúñez", "García", "Peña", "Brontë", "Chevalier", "Lefèvre", "Dubois",
    "d'Hondt", "d'Ancona", "O'Neill", "Sürücü", "Doğan", "Arslan", "Kılıç", "Jovanović",
)

#: (tussenvoegsel, family name) pairs; the tussenvoegsel goes into CiviCRM's middle_name.
PREFIXED_FAMILY_NAMES: Final[tuple[tuple[str, str], ...]] = (
    ("de", "Jong"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("de", "Boer"),
    ("van der", "Meer"), ("de", "Graaf"), ("van", "Leeuwen"), ("de", "Wit"), ("de", "Groot"),
    ("van der", "Linden"), ("van", "Beek"), ("van der", "Heijden"), ("de", "Bruijn"),
    ("van der", "Wal"), ("van", "Vliet"), ("van de", "Ven"), ("van den", "Broek"),
    ("de", "Haan"), ("van der", "Laan"), ("van", "Wijk"), ("van", "Dam"), ("de", "Lange"),
    ("van den", "Bosch"), ("van der", "Veen"), ("van", "Rijn"), ("de", "Ruiter"),
    ("van", "Loon"), ("van der", "Velden"), ("van de", "Pol"), ("van den", "Heuvel"),
    ("van", "Doorn"), ("ter", "Horst"), ("ter", "Haar"), ("ten", "Brink"), ("ten", "Cate"),
    ("'t", "Hart"), ("in 't", "Veld"), ("in 't", "Zandt"), ("van 't", "Hof"),
    ("van 't", "Wout"), ("de la", "Rie"), ("du", "Pré"), ("le", "Clercq"), ("van", "Dongen"),
    ("van", "Gogh"), ("van", "Os"), ("van", "Eck"), ("van", "Hulst"), ("van", "Zanten"),
    ("van", "Ommen"), ("van der", "Ploeg"), ("van der", "Sluis"), ("van", "Gelder"),
    ("op den", "Kamp"), ("uit den", "Bogaard"), ("van", "Ruysdael"), ("de", "Kok"),
    ("van", "Rooij"), ("van", "Schaik"), ("van den", "Hoek"), ("de", "Koning"),
    ("van", "Steenis"), ("van der", "Zee"), ("ter", "Beek"), ("van", "Bergen"),
    ("de", "Vos"), ("van", "Ginkel"), ("van", "Daalen"), ("van", "Wijngaarden"),
)
# fmt: on
