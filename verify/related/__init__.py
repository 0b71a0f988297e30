"""Checks of the related papers' statements (issue 10): one module per paper, e.g. :mod:`verify.related.imaml`."""
