"""Settings and the owner-editable business config (ground floor: imports nothing above it)."""
