"""toolkit-mlflow: records toolkit runs in MLflow (a local SQLite store by default, or a server)."""
