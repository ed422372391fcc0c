"""Bursts: frames of one scene shot a fraction of a second apart, and which frame is best.

Three steps, each a module: which frames form a burst (chain.py, from the verdict stage's
similar shots and the frames' capture instants; burst_ids.py reads Apple's BurstUUID), each
frame measured at no less than a quarter of its resolution (ranking_image.py decodes, align.py
finds the area every frame shows, sharpness.py and exposure.py measure it), and the frames
ranked (rank.py). A burst holds frames only: a copy of a frame is a duplicate, left to the
duplicate groups.
"""
