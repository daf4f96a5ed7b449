"""hitlbench: how much human effort each human-in-the-loop labeling strategy costs.

Built in floors, each importing only from those below it (docs/concepts.md, "Package
layout"): `hitlbench.types` and `hitlbench.core` (registry, component base, effort, metrics,
storage); the strategy subpackages (`data`, `samplers`, `detectors`, `classifiers`,
`oracles`, `feedback`, `annotators`, `embeddings`, `zero_shot`, `concepts`) and
`hitlbench.registries`; `hitlbench.simulation` (the loop and its evaluation);
`hitlbench.harness` (specs, suites, runs, records); `hitlbench.publish` (leaderboards,
figures, strategy pages, the site); `hitlbench.cli` and `hitlbench.testing` on top.
"""

__version__ = "0.1.0"
