"""The core floor: what every strategy is built from, below the strategies themselves.

Data types sit in `hitlbench.types`. Here: the registry and the component base with its
parameters (`registry`, `component`, `params`), effort accounting (`effort`), metrics and
Grad-CAM (`metrics`, `explain`), crops, seeded random streams (`torch_rng`), behaviour hashes
(`provenance`), offline pretrained weights (`pretrained`), canonical JSON and atomic writes
(`storage`) and the on-disk array cache (`cache`). Nothing here imports a strategy,
`hitlbench.simulation`, `hitlbench.harness` or `hitlbench.publish`.
"""
