"""LeRobot v3.0 datasets: export a contract dataset as one, and read one back as contract episodes.

`export_lerobot(dataset, out)` writes the folder LeRobot's own writer would (meta/info.json,
meta/stats.json, meta/tasks.parquet, meta/episodes/, data/ parquet, one MP4 per camera and file),
streaming with bounded memory and atomically. `open_lerobot(root)` validates a LeRobot folder
(version, schema against info.json, videos present, timestamps on the fps grid) and
`iter_lerobot_episodes(root, mapping)` turns it into contract `Episode`s for
`builders/lerobot_import`. The layout facts come from LeRobot's source (see `layout`); LeRobot
itself is not imported (it cannot be installed beside this toolkit's pins).
"""

from rldg_data.lerobot.export import ExportConfig, ExportSummary, export_lerobot

__all__ = ["ExportConfig", "ExportSummary", "export_lerobot"]
