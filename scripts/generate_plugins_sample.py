"""Write the ``toolkit plugins`` sample of docs/writing-plugins.md from a real run, the example installed.

    python scripts/generate_plugins_sample.py           # rewrite the sample in the guide
    python scripts/generate_plugins_sample.py --check   # exit 1 when the guide's sample is stale

The example distribution is installed by pip into a temporary folder (nothing changes in the
environment); ``toolkit plugins`` then runs in a fresh process with that folder on its path.
tests/test_docs.py compares the guide's sample with the same real output.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
GUIDE = REPO_ROOT / "docs" / "writing-plugins.md"
EXAMPLE = REPO_ROOT / "examples" / "custom_metric_plugin"
SAMPLE_START = "<!-- check: output of toolkit plugins -->\n```text\n"


def install_example(site: Path) -> Path:
    """``pip install --target site`` the example distribution; returns ``site``."""
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "--target", str(site), str(EXAMPLE)], check=True, timeout=300)
    return site


def real_output(site: Path) -> str:
    """What ``toolkit plugins`` prints with the distributions in ``site`` installed."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("TOOLKIT_DISABLE_PLUGINS", "TOOLKIT_TRACE_PLUGINS")}
    environment["PYTHONPATH"] = str(site)
    completed = subprocess.run([sys.executable, "-m", "toolkit.cli", "plugins"], env=environment,
                               capture_output=True, text=True, check=True, timeout=120)
    return completed.stdout


def sample_in(guide: str) -> str:
    """The sample as the guide shows it."""
    start = guide.index(SAMPLE_START) + len(SAMPLE_START)
    return guide[start:guide.index("```\n", start)]


def with_sample(guide: str, output: str) -> str:
    """The guide with its sample replaced by ``output``."""
    start = guide.index(SAMPLE_START) + len(SAMPLE_START)
    return guide[:start] + output + guide[guide.index("```\n", start):]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when the sample is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        output = real_output(install_example(Path(folder)))
    guide = GUIDE.read_text()
    if args.check:
        stale = sample_in(guide) != output
        print("the sample is stale" if stale else "the sample is the real output")
        return int(stale)
    GUIDE.write_text(with_sample(guide, output))
    print(f"wrote the sample ({len(output.splitlines())} lines) into {GUIDE.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
