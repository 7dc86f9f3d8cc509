"""General meetings: voter roll frozen at a cut-off, steward check-in at the door, live quorum."""
