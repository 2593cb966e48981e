"""dualasr: dual-output (surface + meaning) L2 ASR on ESPnet."""
