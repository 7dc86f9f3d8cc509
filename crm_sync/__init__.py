"""The CRM boundary: port, adapters, pull, push, simulator, jobs."""
