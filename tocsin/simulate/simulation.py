"""Running a scenario: its attacks and background, merged in time order into files and ground truth."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any

from tocsin.simulate.background import background_records
from tocsin.simulate.daily import DAY, HOUR, Trip, plan_trips, travelling
from tocsin.simulate.formats import BACKGROUNDS
from tocsin.simulate.records import Record, iso_ms
from tocsin.simulate.registry import Scenario
from tocsin.simulate.streams import STREAMS, Writer
from tocsin.simulate.truth import LOGS_DIR, AttackTruth, FileTruth, GroundTruth
from tocsin.simulate.world import Attacker, User, World

DEFAULT_START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
#: Employees at scale 1.
USERS_PER_SCALE = 40


@dataclass(frozen=True)
class Settings:
    """What every scenario of one run shares."""

    seed: int
    scale: float = 1.0
    start: datetime = DEFAULT_START
    days: int = 7

    @property
    def users(self) -> int:
        return max(4, round(USERS_PER_SCALE * self.scale))

    def instances(self, base: int) -> int:
        """How many instances of an attack a scenario plants: ``base`` at scale 1, growing with scale."""
        return max(1, round(base * max(1.0, self.scale)))


@dataclass
class Attack:
    """One attack instance being planted: its records go to the simulation, labelled with its id."""

    truth: AttackTruth
    simulation: Simulation

    def emit(self, stream: str, time: float, payload: Any) -> None:
        self.simulation.records.append(Record(time, stream, payload, self.truth.id))

    def emit_all(self, records: list[Record]) -> None:
        self.simulation.records.extend(Record(r.time, r.stream, r.payload, self.truth.id) for r in records)


@dataclass
class Simulation:
    """A scenario being planned: the world, a random source, its attacks and background streams."""

    scenario: Scenario
    settings: Settings
    world: World
    rng: Random
    trips: dict[str, Trip]
    attacks: list[Attack] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    streams: set[str] = field(default_factory=set)

    @property
    def start(self) -> float:
        return self.settings.start.timestamp()

    @property
    def end(self) -> float:
        return self.start + self.settings.days * DAY

    def background(self, *streams: str) -> None:
        """Include the benign background of these streams."""
        self.streams.update(streams)

    def attack(self, technique: str, summary: str, expected: list[str], **attacker: list[str]) -> Attack:
        """A new attack instance (ATT&CK ``technique``), expected to raise the rules titled ``expected``."""
        number = len(self.attacks) + 1
        truth = AttackTruth(f"{self.scenario.name}-{number}", technique, summary, expected, attacker)
        attack = Attack(truth, self)
        self.attacks.append(attack)
        return attack

    def account_attack(
        self, technique: str, summary: str, expected: list[str], source: str, users: list[str]
    ) -> Attack:
        """An attack (see ``attack``) from the address ``source`` on the accounts ``users``."""
        return self.attack(technique, summary, expected, **{"source.ip": [source], "user.name": users})

    def victim(self, time: float, engineer: bool = False) -> User:
        """A user at home at ``time`` (travellers' own sign-ins would blur whose login is whose)."""
        day = int((time - self.start) // DAY)
        return self.rng.choice(
            [
                user
                for user in self.world.users
                if not travelling(self.trips, user, day) and (user.engineer or not engineer)
            ]
        )

    def impersonation(self, slot: int) -> tuple[Attacker, User, float]:
        """For attack ``slot``: an attacker, a user at home then and a moment in (UTC) working hours."""
        attacker, time = self.world.attacker(self.rng), self.moment(7, 15, slot)
        return attacker, self.victim(time), time

    def moment(self, earliest_hour: float = 0.0, latest_hour: float = 24.0, slot: int | None = None) -> float:
        """A random time (UTC hours) on a day after the first: attack ``slot`` of n spreads them out."""
        days = max(1, self.settings.days - 1)
        day = 1 + (slot % days if slot is not None else self.rng.randrange(days))
        return self.start + day * DAY + self.rng.uniform(earliest_hour, latest_hour) * HOUR


def generate(scenario: Scenario, settings: Settings, out: Path) -> GroundTruth:
    """Write ``scenario``'s logs under ``out/logs`` and its ``ground_truth.json``; return the truth."""
    world = World(settings.seed, settings.users)
    trips = plan_trips(world, settings.days)
    simulation = Simulation(
        scenario, settings, world, Random(f"{settings.seed}/{scenario.name}/attacks"), trips
    )
    scenario.plan(simulation)
    simulation.streams.update(record.stream for record in simulation.records)
    logs = out / LOGS_DIR
    writers = {name: Writer(STREAMS[name], logs) for name in sorted(simulation.streams)}
    by_id = {attack.truth.id: attack.truth for attack in simulation.attacks}
    bounds: dict[str, list[float]] = {}
    attack_records = sorted(simulation.records, key=lambda record: record.time)
    sources = {stream: BACKGROUNDS[stream] for stream in simulation.streams}
    background = background_records(
        world, trips, sources, f"{settings.seed}/{scenario.name}", simulation.start, settings.days
    )
    try:
        for record in heapq.merge(background, attack_records, key=lambda record: record.time):
            number = writers[record.stream].write(record)
            if record.attack is not None:
                attack_truth = by_id[record.attack]
                attack_truth.records.setdefault(STREAMS[record.stream].path, []).append(number)
                span = bounds.setdefault(record.attack, [record.time, record.time])
                span[0], span[1] = min(span[0], record.time), max(span[1], record.time)
    finally:
        for writer in writers.values():
            writer.close()
    for attack_id, (first, last) in bounds.items():
        by_id[attack_id].start, by_id[attack_id].end = iso_ms(first), iso_ms(last)
    truth = GroundTruth(
        scenario=scenario.name,
        description=scenario.description,
        seed=settings.seed,
        scale=settings.scale,
        start=iso_ms(simulation.start),
        end=iso_ms(simulation.end),
        files={
            STREAMS[name].path: FileTruth(STREAMS[name].format, STREAMS[name].unit, writer.count)
            for name, writer in writers.items()
        },
        attacks=[attack.truth for attack in simulation.attacks],
    )
    truth.save(out)
    return truth
