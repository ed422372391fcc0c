"""Verdicts: what each candidate pair really is (a kind of copy, a similar shot, or neither)."""
