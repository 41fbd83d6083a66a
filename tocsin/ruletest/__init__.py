"""Tooling for rule authors: run rules against their test cases, lint them, list their coverage."""
