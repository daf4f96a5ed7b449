"""The simulation floor: one labeling session, run and scored.

The loop (`loop`: round after round, `run_round` calling DESIGN §1's steps by name), the steps
themselves (`steps.RoundSteps`: select, propose, review, update, fit, evaluate), what they hand
on (`step_results`), what the rounds carry (`state`), how images are boxed and cropped
(`imagery`), what a run is made of (`parts`), a round's row (`round_row`), and what it measures
on the holdout (`evaluation`, `cam_examples`, `error_analysis`). It sits on the strategy
subpackages' bases and `hitlbench.core`; `hitlbench.harness` runs it.
"""
