"""Paper tables and figures regenerated from exp/: the main table (:mod:`.tables`), the figures
(:mod:`.figures`) and exp/report/ as a whole (:mod:`.report`).
"""
