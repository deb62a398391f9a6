"""Evaluation beyond one machine's memory: files read in chunks, Dask collections merged by state.

Nothing here imports pyarrow or dask until it is used (``pip install 'toolkit[scale]'``).
"""
