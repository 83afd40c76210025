"""Chat sources: the one seam to the outside (telegram, demo, replay)."""
