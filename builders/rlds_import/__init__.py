"""rlds_import: any RLDS dataset on disk, through a key mapping, as a contract dataset (see README.md)."""
