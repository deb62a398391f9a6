"""toolkit-tensorboard: records toolkit runs as TensorBoard event files, and reads them back."""
