"""The CLI's quality-gate, interval and threshold options, shared by ``toolkit evaluate`` and ``toolkit train``."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Optional

from toolkit.errors import UsageError
from toolkit.evaluation import gates as quality_gates

# Exit code of a run whose gates failed (2 is bad input, as for every ValueError).
GATES_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser, intervals: bool = True, thresholds: bool = True) -> None:
    group = parser.add_argument_group("quality gates" + (" and confidence intervals" if intervals else ""))
    group.add_argument("--gate", dest="gates", action="append", default=[], metavar="RULE",
                       help="a gate such as 'accuracy>=0.9' or 'f1_macro>=baseline+0.01' (repeatable); "
                            "the command exits 1 naming every gate that failed")
    group.add_argument("--baseline", metavar="RUN_ID",
                       help="a recorded run (id or unique prefix) whose metrics 'baseline' in a gate refers to; "
                            "read through --baseline-tracker (default: the first configured tracker that can read)")
    group.add_argument("--baseline-tracker", metavar="NAME", help="the tracker that recorded the --baseline run")
    if intervals:
        group.add_argument("--ci", type=float, metavar="LEVEL",
                           help="add percentile bootstrap confidence intervals at this level (e.g. 0.95)")
        group.add_argument("--n-bootstrap", type=int, default=1000, metavar="N",
                           help="bootstrap resamples (default 1000)")
        group.add_argument("--seed", type=int, metavar="N", help="seed of the bootstrap resamples")
    if thresholds:
        group.add_argument("--target-precision", type=float, metavar="P",
                           help="binary: report the lowest threshold whose precision is >= P")
        group.add_argument("--target-recall", type=float, metavar="R",
                           help="binary: report the highest threshold whose recall is >= R")


def parse(args: argparse.Namespace, config_gates: Any = None, manager: Any = None,
          metrics: Optional[list] = None) -> tuple[list, Optional[dict]]:
    """The gates (config first, then --gate) and the baseline's metrics; ValueError before anything runs.

    With ``manager``, every gate's metric must be one that the (selected) metrics can produce.
    """
    gates = quality_gates.parse_gates(config_gates) + quality_gates.parse_gates(list(args.gates or []))
    if gates and manager is not None:
        known = quality_gates.known_metric_keys(manager.get_metrics(), selected=metrics)
        quality_gates.check_gate_metrics(gates, known, "the chosen metrics")
    baseline = None
    if getattr(args, "baseline", None):
        baseline = baseline_metrics(args.baseline, getattr(args, "baseline_tracker", None))
    elif any(gate.relative for gate in gates):
        raise ValueError(f"gates {[str(gate) for gate in gates if gate.relative]} compare with a baseline: "
                         "give --baseline RUN_ID")
    quality_gates.check_baseline(gates, baseline)
    return gates, baseline


def baseline_metrics(run_id: str, tracker: Optional[str] = None) -> dict[str, float]:
    """The latest value of every metric of the recorded run ``run_id`` (or a unique prefix of it)."""
    from toolkit.reporting.record import open_reader, read_run

    record = read_run(open_reader(tracker), run_id)
    if not record.metrics:
        raise UsageError(f"--baseline {run_id!r}: the run has no metrics to compare with")
    return dict(record.metrics)


def report(result: Any, stream: Any = None) -> int:
    """Print each gate's outcome; the exit code: 0, or GATES_FAILED naming every failed gate."""
    stream = stream or sys.stdout
    for outcome in result.gates:
        print(f"gate {outcome}", file=stream)
    failed = result.failed_gates()
    if failed:
        names = ", ".join(str(outcome.gate) for outcome in failed)
        print(f"toolkit: {len(failed)} of {len(result.gates)} gates failed: {names}", file=sys.stderr)
        return GATES_FAILED
    return 0


def print_intervals(result: Any, stream: Any = None) -> None:
    stream = stream or sys.stdout
    for key, (low, high) in result.intervals.items():
        if "/" not in key:
            print(f"  {key:24s} [{low:.4f}, {high:.4f}]", file=stream)


def threshold_targets(args: argparse.Namespace) -> Optional[dict]:
    """``evaluate(threshold_targets=...)`` from --target-precision / --target-recall."""
    targets = {name: getattr(args, f"target_{name}", None) for name in ("precision", "recall")}
    targets = {name: value for name, value in targets.items() if value is not None}
    return targets or None


def print_thresholds(result: Any, stream: Any = None) -> None:
    """The binary threshold analysis's best-F1 point and the user's targets."""
    stream = stream or sys.stdout
    analysis = result.artifacts.get("threshold_analysis")
    if analysis is None:
        return
    best = analysis.best_f1
    if best is not None:
        print(f"best F1 {best.f1:.4f} at threshold {best.threshold:.6g} "
              f"(precision {best.precision:.4f}, recall {best.recall:.4f})", file=stream)
    for name, point in analysis.targets.items():
        target = name.replace("_", " >= ", 1)
        if point is None:
            print(f"{target}: no threshold reaches it", file=stream)
        else:
            print(f"{target}: threshold {point.threshold:.6g} (precision {point.precision:.4f}, "
                  f"recall {point.recall:.4f})", file=stream)
