"""Embedded evaluation: score scikit-learn's bundled digits with toolkit.evaluate, no trainer, no tracker."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import toolkit


def main() -> None:
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x / 16.0, y, test_size=0.3, random_state=0)
    model = LogisticRegression(max_iter=500).fit(x_train, y_train)
    result = toolkit.evaluate(y_test, y_score=model.predict_proba(x_test), labels=model.classes_)

    print(f"{len(y_test)} test digits, {len(result.labels)} classes")
    for key in ("accuracy", "f1_macro", "roc_auc_ovr_macro", "log_loss"):
        print(f"  {key:<20} {result.metrics[key]:.4f}")
    print("confusion matrix (rows = true digit, columns = predicted):")
    print(np.array2string(result.confusion_matrix, max_line_width=120))
    streaming = toolkit.Evaluator(labels=model.classes_)
    for start in range(0, len(y_test), 100):  # the same result, in batches
        stop = start + 100
        streaming.update(y_test[start:stop], y_score=model.predict_proba(x_test[start:stop]))
    assert streaming.compute().metrics == result.metrics
    print("streamed in batches of 100: identical metrics")


if __name__ == "__main__":
    main()
