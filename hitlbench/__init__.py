"""hitlbench: how much human effort each human-in-the-loop labeling strategy costs."""

__version__ = "0.1.0"
