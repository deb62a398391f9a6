"""toolkit-keras: trains Keras 3 models through toolkit's Trainer, with its own Keras callback."""

__version__ = "0.1.0"
