"""Stateful detectors: account history, geo-velocity and cross-target patterns Sigma cannot express.

Rules are data (``stateful:`` YAML documents beside the Sigma rules, see ``spec``); detector kinds
are listed in ``registry``; ``engine.StatefulEngine`` runs them and documents its interface.
"""
