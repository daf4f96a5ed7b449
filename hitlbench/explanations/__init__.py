"""Maps of known quality and the check of the explanation metrics on them: which metric, at
which map resolution, tells good saliency maps from bad (`benchmarks/xil_metric_check.py`,
docs/explanation-metrics.md). Depends on `hitlbench.core` and `hitlbench.data` only."""
