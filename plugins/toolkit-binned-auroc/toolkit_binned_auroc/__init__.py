"""toolkit-binned-auroc: approximate AUROC from fixed-size, mergeable score histograms."""
