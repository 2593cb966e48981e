"""Paper tables and figures regenerated from exp/."""
