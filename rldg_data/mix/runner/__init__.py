"""Running the mix pipeline locally and on Dask: the runner plumbing beside `rldg_data.mix`.

`zygote` is a preloaded interpreter that forks one Beam SDK worker per request (`--workers N`);
`local_runner` is the FnApiRunner whose worker environment asks the zygote; `malloc` undoes the
Dask nanny's fixed malloc thresholds in workers. Users preload `rldg_data.mix.dask_worker` on
Dask workers (docs/SCALING.md), which uses `malloc`. Nothing here knows what a mix is.
"""
