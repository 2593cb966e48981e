"""Analyses for the paper: linear CKA of layer representations (:mod:`.cka`), surface–meaning
divergence bins and correlation (:mod:`.divergence`), paired bootstrap and seed spread (:mod:`.stats`),
encoder hidden states of trained models (:mod:`.encoder`), teacher-forced decoder states and decoder
swaps (:mod:`.cross_decoder`), and where a recipe's exp/ and dump/ keep things (:mod:`.layout`).
"""
