"""lerobot_import: a LeRobot v3.0 dataset as a contract RLDS dataset (see README.md)."""
