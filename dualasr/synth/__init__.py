"""The embedded synthetic L2 corpus (ko, en).

Meaning sentences come from small grammars (:mod:`.sentences`); the surface text is the meaning
after pronunciation rules and learner errors (:mod:`.rules_ko`, :mod:`.rules_en`); espeak-ng speaks
the surface text (:mod:`.corpus`). Entry point: ``python -m dualasr.bin.synth``.
"""
