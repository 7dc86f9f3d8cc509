"""CiviCRM APIv4 simulator: a seeded party database served over HTTP for tests and demos."""
