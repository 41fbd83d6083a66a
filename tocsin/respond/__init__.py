"""Response: alerts in, incidents and their playbooks run step by journaled step.

``plan`` (with ``plan.yml``) is the incident-response plan; ``playbooks`` their shapes, loader,
sandboxed templates and the built-in library; ``engine`` matches alerts to playbooks and runs
the steps; ``journal`` keeps every step's state in the case database and ``audit`` its
hash-chained log; ``actions`` are the responders, listed in ``actions.registry``.
"""
