"""Simulated annotators: confusion models, the rule by which a person treats a proposal,
aggregation of several people's answers, and their agreement (used by `hitlbench.oracles`)."""
