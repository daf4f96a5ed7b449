"""The publish floor: records made readable.

Leaderboards: `leaderboard` builds a board from records, `board_model` holds it as data,
`table_stats` gives a cell's statistics, `comparisons` the verdicts, `board_provenance` the
provenance and warnings, `board_markdown` prints it as markdown, `metric_names` names the
columns; `round_table` prints a run's rounds. Figures (`plots`, `plots_common`, `round_figures`,
`cam_figure`, `labeler_figure`), the strategy pages (`docgen`) and the static site (`site`, with
`site_index`, `site_suite` (a board as HTML), `site_runs`, `site_figures`, `site_html` and the
vendored `site_assets`). It reads records through `hitlbench.harness` and changes nothing below
it.
"""
