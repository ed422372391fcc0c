"""Files: discovery (walk the roots), decoding (one small image per file), content
digests, preview thumbnails.
"""
