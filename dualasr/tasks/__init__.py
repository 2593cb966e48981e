"""ESPnet tasks of dualasr."""
