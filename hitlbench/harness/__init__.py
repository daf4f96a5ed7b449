"""The harness floor: specs, suites and the runs that turn them into records.

Spec resolution and run identity (`spec`), suite files (`suites`, `yaml12`), one run
(`runner`), a suite's grid on an executor (`bench`), records on disk (`results`, `records`,
`record_metrics`) and the paired statistics behind verdicts (`verdicts`). It sits on
`hitlbench.core` and the strategy subpackages; `hitlbench.publish` sits on it.
"""
