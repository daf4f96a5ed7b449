"""The publish floor: records made readable.

Markdown leaderboards (`leaderboard`, `comparisons`, `metric_names`, `round_table`), figures
(`plots`, `plots_common`, `round_figures`, `cam_figure`, `labeler_figure`), the strategy pages
(`docgen`) and the static site (`site`, with `site_index`, `site_suite`, `site_runs`,
`site_figures`, `site_html` and the vendored `site_assets`). It reads records through
`hitlbench.harness` and changes nothing below it.
"""
