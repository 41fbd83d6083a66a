"""``tocsin watch``: continuous monitoring of live logs (follower, checkpoints, incremental detection)."""
