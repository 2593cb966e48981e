"""Analyses for the paper: linear CKA of layer representations (:mod:`.cka`), surface–meaning
divergence bins and correlation (:mod:`.divergence`), paired bootstrap and seed spread (:mod:`.stats`).
"""
