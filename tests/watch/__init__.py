"""Tests of tocsin watch: real processes, files and signals."""
