"""Step 1, prepare: read every tool's export and the items into canonical tables."""
