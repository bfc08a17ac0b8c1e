"""rldg_mix: TFDS builder whose configs are mixing recipes (see README.md)."""
