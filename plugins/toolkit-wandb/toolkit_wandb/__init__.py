"""toolkit-wandb: records toolkit runs in Weights & Biases, offline unless an API key is configured."""
