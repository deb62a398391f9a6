"""The README's Python examples that start Dask workers keep them under the main guard."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
STARTS_WORKERS = re.compile(r"\b(Client|LocalCluster)\(|scheduler=\"local\"")


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_every_readme_example_starting_dask_workers_has_the_main_guard():
    starting = [block for block in python_blocks() if STARTS_WORKERS.search(block)]
    assert starting, "the README has a Dask example"
    for block in starting:
        guard = block.index('if __name__ == "__main__":')
        assert all(match.start() > guard for match in STARTS_WORKERS.finditer(block)), block
        compile(block, "README.md", "exec")  # the guarded example is valid Python as written
