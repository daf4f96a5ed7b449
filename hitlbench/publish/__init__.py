"""The publish floor: records made readable.

Markdown leaderboards (`leaderboard`, `comparisons`, `metric_names`), figures (`plots`,
`plots_common`, `round_figures`, `cam_figure`, `labeler_figure`) and the strategy pages
(`docgen`). It reads records through `hitlbench.harness` and changes nothing below it.
"""
