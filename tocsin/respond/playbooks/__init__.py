"""Playbooks and the incident-response plan: YAML that maps alerts to ordered response steps."""
