"""Task families of the simulated suite: one module per family (scene edits, randomisation, strict success test)."""
