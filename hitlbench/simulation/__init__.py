"""The simulation floor: one labeling session, run and scored.

The loop (`loop`: select, pre-label, review, feedback, fit, evaluate, round by round) and what
it measures on the holdout (`evaluation`, `cam_examples`, `error_analysis`). It sits on the
strategy subpackages' bases and `hitlbench.core`; `hitlbench.harness` runs it.
"""
