"""toolkit-sklearn: trains scikit-learn estimators through toolkit's Trainer."""

__version__ = "0.1.0"
