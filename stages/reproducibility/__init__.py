"""check-repro: does this commit reproduce, and if not, what differs."""
