"""Scenarios: one module each; ``SCENARIOS`` names them all, by name."""

from tocsin.simulate.registry import Scenario
from tocsin.simulate.scenarios.account_enumeration import account_enumeration
from tocsin.simulate.scenarios.api_mass_export import api_mass_export
from tocsin.simulate.scenarios.api_scraping import api_scraping
from tocsin.simulate.scenarios.brute_force import brute_force
from tocsin.simulate.scenarios.exfiltration import exfiltration
from tocsin.simulate.scenarios.exposed_secrets import exposed_secrets
from tocsin.simulate.scenarios.mfa_fatigue import mfa_fatigue
from tocsin.simulate.scenarios.password_reset_abuse import password_reset_abuse
from tocsin.simulate.scenarios.reporting import mass_reporting
from tocsin.simulate.scenarios.session_hijack import session_hijack
from tocsin.simulate.scenarios.session_token_reuse import session_token_reuse
from tocsin.simulate.scenarios.spraying import password_spraying
from tocsin.simulate.scenarios.stuffing import credential_stuffing
from tocsin.simulate.scenarios.takeover import account_takeover
from tocsin.simulate.scenarios.travel import impossible_travel
from tocsin.simulate.scenarios.vulnerability_scanning import vulnerability_scanning
from tocsin.simulate.scenarios.web_brute_force import web_brute_force
from tocsin.simulate.scenarios.web_stuffing import web_credential_stuffing

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
        Scenario(
            "web_credential_stuffing",
            "A combo list against the platform's login API: a proxy burst, and a slow run with one TLS fingerprint (platform events)",
            web_credential_stuffing,
        ),
        Scenario(
            "account_enumeration",
            "Which addresses have an account: login failures for unknown users (platform events), 404s of the lookup endpoint (nginx)",
            account_enumeration,
        ),
        Scenario(
            "password_reset_abuse",
            "Resets for many accounts, a reset-mail flood, a takeover through the reset flow (platform events)",
            password_reset_abuse,
        ),
        Scenario(
            "session_token_reuse",
            "A platform session token replayed from another network, by a script or with the victim's browser string (platform events)",
            session_token_reuse,
        ),
        Scenario(
            "api_scraping",
            "An API token walking sequential record ids, from one address and through proxies (platform events)",
            api_scraping,
        ),
        Scenario(
            "api_mass_export",
            "A taken-over account exporting record after record (platform events)",
            api_mass_export,
        ),
        Scenario(
            "web_brute_force",
            "POST /login guessing, once until a password works (nginx access log)",
            web_brute_force,
        ),
        Scenario(
            "exposed_secrets",
            "Leftover .env, .git, SQL dumps and backups downloaded from outside (nginx access log)",
            exposed_secrets,
        ),
        Scenario(
            "vulnerability_scanning",
            "Scanners sweeping common paths, hundreds of 404s (nginx access log)",
            vulnerability_scanning,
        ),
    )
}
