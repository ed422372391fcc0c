"""Features: the hashes and histograms of one decoded image, their value type, and the
store that holds them as columns; which columns there are is declared once, in
:mod:`tui_dedup.engine.features.columns`.
"""
