"""Traffic: pure decisions (`plan`), snapshots (`snapshot`), carrying them out (`actions`)."""
