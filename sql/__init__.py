"""The pipeline's SQL files, shipped as package data and read with ``importlib.resources``."""
