"""Index: all pairs of hashes within a Hamming radius (brute force or multi-index
hashing).
"""
