"""hil_serl: HIL-SERL's pickled transitions as an RLDS contract dataset (see README.md)."""
