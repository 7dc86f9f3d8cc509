"""Member use cases, one module per group; this file only re-exports them."""
