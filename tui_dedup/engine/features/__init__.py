"""Features: the hashes and histograms of one decoded image, their value type, and the
store that holds them as columns.
"""
