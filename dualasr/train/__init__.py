"""Training extensions on ESPnet's trainer."""
