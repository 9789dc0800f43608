"""One file per schema step; never edit a released step, add a new one whose down_revision is the last."""
