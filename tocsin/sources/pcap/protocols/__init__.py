"""Protocol dissectors: each module registers its classes with ``analyzer.dissector``."""
