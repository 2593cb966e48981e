"""Text normalisers and dual-transcription parsers (Korean, English)."""
