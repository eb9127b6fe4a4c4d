"""jianyan (建言): search, precedent and duplicate detection for Chinese official documents."""

__version__ = "0.1.0"
