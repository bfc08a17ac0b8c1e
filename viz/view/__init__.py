"""`rldg view`: a local web app to browse a dataset's episodes and scrub any one of them.

Rooms: `index` (one cheap pass over the record headers and metadata of every episode: the table),
`episode` (one episode decoded on demand, frames left as stored), `server` (HTTP, loopback by
default, JSON API and the static page in `static/`), `registry` (where running viewers say what
they serve, so `rldg report` can link to them). Nothing here imports TensorFlow.
"""
