"""Mass reporting: a crew of fresh accounts reports one legitimate account with a shared template."""

from __future__ import annotations

from random import Random

from tocsin.simulate.formats import reports
from tocsin.simulate.simulation import Simulation

EXPECTED = [
    "Mass Reporting Of One Account",
    "Mass Reporting Of One Account By New Accounts",
    "Near-Identical Reports Against One Account",
]
TEMPLATES = (
    (
        "harassment",
        "This account is spreading hate speech and harassing people in the comments every single day, ban it now",
    ),
    (
        "scam",
        "Fake account impersonating a journalist to scam followers with fraudulent donation links, report and remove",
    ),
    (
        "hate_speech",
        "This user posts violent threats against our community and doxxes members, it violates every platform rule",
    ),
)
SWAPS = {
    "account": ("profile", "page"),
    "people": ("users", "everyone"),
    "remove": ("delete", "suspend"),
    "scam": ("cheat", "trick"),
    "violent": ("serious", "scary"),
    "every": ("each",),
}


def variant(rng: Random, template: str) -> str:
    """The template with a word or two swapped and the case or punctuation changed, as copy-pasters do."""
    words = template.split()
    for _ in range(rng.randint(0, 2)):
        positions = [i for i, word in enumerate(words) if word.strip(",").lower() in SWAPS]
        if positions:
            i = rng.choice(positions)
            words[i] = rng.choice(SWAPS[words[i].strip(",").lower()])
    text = " ".join(words)
    return text.upper() if rng.random() < 0.15 else text + rng.choice(("", "!", "!!", "."))


def mass_reporting(simulation: Simulation) -> None:
    simulation.background("reports")
    rng, world = simulation.rng, simulation.world
    population = len(world.users) * reports.ACCOUNTS_PER_USER
    for slot in range(simulation.settings.instances(3)):
        target = reports.account(rng, population)
        crew = [f"u-{population + rng.randrange(10**6):07d}" for _ in range(rng.randint(12, 30))]
        reason, template = rng.choice(TEMPLATES)
        attack = simulation.attack(
            "T1531",
            "Coordinated mass reporting by sock puppets",
            EXPECTED,
            **{
                "user.name": [name.replace("u-", "user") for name in crew],
                "user.target.name": [target.replace("u-", "user")],
            },
        )
        time = simulation.moment(0, 23, slot)
        for reporter in crew:
            time += rng.uniform(30, 150)
            age, followers = rng.uniform(0.2, 5), rng.randint(0, 3)
            attack.emit_all(
                [reports.report(rng, time, reporter, age, followers, target, reason, variant(rng, template))]
            )
