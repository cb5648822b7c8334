"""Past one machine: pools of workers (this process, a Dask ``LocalCluster`` or a Dask scheduler) that
run tasks of plain data, and the workload study that sweeps on them.

Dask is an optional extra (``pip install 'sessionspec[dask]'``); without it only the in-process pool exists.
"""
