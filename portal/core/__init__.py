"""The shared kernel: database base and sessions, errors, clock, mailer port, events."""
