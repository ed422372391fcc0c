"""Cache: features of unchanged files (SQLite plus a whole-store snapshot) and remembered
match results.
"""
