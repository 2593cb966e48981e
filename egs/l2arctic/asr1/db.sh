# Root of L2-ARCTIC (<SPK>/{wav,transcript,annotation}/); the environment wins.
L2ARCTIC=${L2ARCTIC:-}
