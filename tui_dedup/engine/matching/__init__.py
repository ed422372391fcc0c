"""Matching: features → candidate pairs → checked pairs and groups.

The pair helpers every stage shares live in :mod:`.pairs`.
"""
