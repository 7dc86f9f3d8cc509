"""Pages and dashboard widgets with audience targeting (not built yet)."""
