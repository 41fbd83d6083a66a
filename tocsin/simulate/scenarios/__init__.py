"""Scenarios: one module each; ``SCENARIOS`` names them all, by name."""

from tocsin.simulate.registry import Scenario
from tocsin.simulate.scenarios.brute_force import brute_force
from tocsin.simulate.scenarios.exfiltration import exfiltration
from tocsin.simulate.scenarios.mfa_fatigue import mfa_fatigue
from tocsin.simulate.scenarios.reporting import mass_reporting
from tocsin.simulate.scenarios.session_hijack import session_hijack
from tocsin.simulate.scenarios.spraying import password_spraying
from tocsin.simulate.scenarios.stuffing import credential_stuffing
from tocsin.simulate.scenarios.takeover import account_takeover
from tocsin.simulate.scenarios.travel import impossible_travel

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "brute_force",
            "Password guessing against one account (sshd, Okta, Auth0, FTP and HTTP Basic on the wire)",
            brute_force,
        ),
        Scenario(
            "exfiltration",
            "Data leaving a workstation over a DNS tunnel and HTTP (office and edge captures)",
            exfiltration,
        ),
        Scenario(
            "mfa_fatigue", "Push bombing until the user approves (Okta Verify, Duo, Entra ID)", mfa_fatigue
        ),
        Scenario(
            "mass_reporting",
            "Fresh accounts mass-report one legitimate account with a shared text (report stream)",
            mass_reporting,
        ),
        Scenario(
            "session_hijack",
            "A stolen session replayed from a second address (Okta SSO, Entra ID token refresh)",
            session_hijack,
        ),
        Scenario(
            "password_spraying",
            "One source tries a common password against many accounts (Entra ID, sshd, Auth0)",
            password_spraying,
        ),
        Scenario(
            "credential_stuffing",
            "Leaked credential pairs replayed from many proxy addresses (Okta, Auth0)",
            credential_stuffing,
        ),
        Scenario(
            "account_takeover",
            "A guessed password, then bulk downloads (Google Workspace) or a new key and bulk S3 reads (CloudTrail)",
            account_takeover,
        ),
        Scenario(
            "impossible_travel",
            "A successful sign-in from another continent shortly after the user's own (Okta, Entra ID)",
            impossible_travel,
        ),
    )
}
