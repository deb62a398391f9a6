"""One tracking policy shared by every tracker: params flattened and redacted, keys and values checked.

Trackers never apply these rules themselves: :class:`toolkit.run.Run` applies them once, so MLflow,
W&B and any third-party tracker receive exactly the same params, keys and values.
"""

from toolkit.tracking.params import MAX_PARAM_LENGTH, PreparedParams, flatten, prepare_params
from toolkit.tracking.redaction import REDACTED, is_secret_key, redact, redact_text, strip_url_credentials
from toolkit.tracking.report import EvaluationReport
from toolkit.tracking.values import KeyMap, TrackingWarning, clean_metrics, safe_key

__all__ = [
    "EvaluationReport", "KeyMap", "MAX_PARAM_LENGTH", "PreparedParams", "REDACTED", "TrackingWarning",
    "clean_metrics", "flatten", "is_secret_key", "prepare_params", "redact", "redact_text", "safe_key",
    "strip_url_credentials",
]
