"""A grid of sample input images titled with their true and predicted labels, as a PNG."""

from __future__ import annotations

import numpy as np

SAMPLE_COUNT = 16


def save_sample_grid(
    images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, path: str, count: int = SAMPLE_COUNT
) -> str:
    """Save the first ``count`` images (wrong predictions titled in red) to ``path``; return it."""
    import matplotlib

    matplotlib.use("Agg")  # no screen here, and no window wanted anywhere
    import matplotlib.pyplot as plt

    count = min(count, len(images))
    columns = min(8, count)
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= count:
            continue
        image = images[index]
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        axis.imshow(image, cmap="gray_r" if image.ndim == 2 else None)
        right = y_true[index] == y_pred[index]
        axis.set_title(f"true {y_true[index]}\npred {y_pred[index]}", fontsize=8,
                       color="black" if right else "red")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path
