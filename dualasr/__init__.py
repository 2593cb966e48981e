"""dualasr: dual-output (surface + meaning) L2 ASR on ESPnet."""

# The two transcriptions of every utterance, in this order everywhere: data dirs, models, tables.
OUTPUTS = ("surface", "meaning")
