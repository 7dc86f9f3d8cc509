"""Administration pages of the CRM boundary: sync runs, the outbox (pending, dead, conflicts), replay."""
