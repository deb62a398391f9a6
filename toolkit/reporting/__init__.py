"""Reports of recorded runs: a run read back from MLflow, rendered as one self-contained HTML file."""
