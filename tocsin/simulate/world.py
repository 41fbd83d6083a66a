"""The simulated organisation: cities, offices, users with their devices and addresses, and attackers."""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from random import Random

DOMAIN = "northwind-labs.com"


@dataclass(frozen=True)
class City:
    """A place logins come from, as identity providers geolocate it."""

    name: str
    region: str
    country: str
    iso: str
    lat: float
    lon: float
    utc_offset: int
    #: First two octets of address blocks of local ISPs or hosting providers.
    prefixes: tuple[str, ...]
    postal_code: str = ""


HOME_CITIES = (
    City(
        "Berlin", "Land Berlin", "Germany", "DE", 52.5200, 13.4050, 1, ("87.138", "91.64", "93.192"), "10115"
    ),
    City(
        "London", "England", "United Kingdom", "GB", 51.5072, -0.1276, 0, ("81.98", "86.12", "90.205"), "EC1A"
    ),
    City(
        "New York",
        "New York",
        "United States",
        "US",
        40.7128,
        -74.0060,
        -5,
        ("72.229", "100.37", "173.52"),
        "10001",
    ),
    City(
        "Austin",
        "Texas",
        "United States",
        "US",
        30.2672,
        -97.7431,
        -6,
        ("70.112", "99.61", "136.49"),
        "78701",
    ),
    City(
        "Lisbon", "Lisboa", "Portugal", "PT", 38.7223, -9.1393, 0, ("85.243", "94.63", "188.80"), "1100-148"
    ),
    City(
        "Warsaw", "Mazowieckie", "Poland", "PL", 52.2297, 21.0122, 1, ("83.24", "89.64", "178.36"), "00-001"
    ),
    City("Toronto", "Ontario", "Canada", "CA", 43.6532, -79.3832, -5, ("99.230", "142.112", "174.89"), "M5H"),
)
ATTACKER_CITIES = (
    City("Lagos", "Lagos", "Nigeria", "NG", 6.5244, 3.3792, 1, ("102.89", "105.112", "197.210")),
    City("Sao Paulo", "Sao Paulo", "Brazil", "BR", -23.5505, -46.6333, -3, ("177.37", "186.204", "189.6")),
    City("Jakarta", "Jakarta", "Indonesia", "ID", -6.2088, 106.8456, 7, ("36.72", "103.147", "114.125")),
    City(
        "Ho Chi Minh City",
        "Ho Chi Minh",
        "Vietnam",
        "VN",
        10.8231,
        106.6297,
        7,
        ("14.161", "113.161", "171.244"),
    ),
    City("Singapore", "Singapore", "Singapore", "SG", 1.3521, 103.8198, 8, ("103.253", "128.199", "159.89")),
    City(
        "Amsterdam", "North Holland", "Netherlands", "NL", 52.3676, 4.9041, 1, ("45.134", "185.220", "193.32")
    ),
)
#: Autonomous systems of the cities' ISPs (number, organisation, domain), as identity providers report them.
ISPS = {
    "Berlin": (3320, "Deutsche Telekom AG", "telekom.de"),
    "London": (2856, "British Telecommunications PLC", "bt.com"),
    "New York": (12271, "Charter Communications", "spectrum.com"),
    "Austin": (7018, "AT&T Services, Inc.", "att.net"),
    "Lisbon": (3243, "MEO - Servicos De Comunicacoes E Multimedia S.A.", "meo.pt"),
    "Warsaw": (5617, "Orange Polska Spolka Akcyjna", "orange.pl"),
    "Toronto": (812, "Rogers Communications Canada Inc.", "rogers.com"),
    "Lagos": (37282, "Mainone Cable Company", "mainone.net"),
    "Sao Paulo": (28573, "Claro NXT Telecomunicacoes Ltda", "claro.com.br"),
    "Jakarta": (7713, "PT Telekomunikasi Indonesia", "telkom.net.id"),
    "Ho Chi Minh City": (7552, "Viettel Group", "viettel.vn"),
    "Singapore": (14061, "DigitalOcean, LLC", "digitalocean.com"),
    "Amsterdam": (60781, "LeaseWeb Netherlands B.V.", "leaseweb.com"),
}
OFFICES = {"Berlin": "193.175.44.10", "London": "81.2.69.160", "New York": "207.237.18.34"}
BROWSERS = (
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
        "CHROME",
        "Mac OS X",
        "Computer",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36 Edg/121.0.2277.83",
        "EDGE",
        "Windows 10",
        "Computer",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:122.0) Gecko/20100101 Firefox/122.0",
        "FIREFOX",
        "Windows 10",
        "Computer",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
        "CHROME",
        "Linux",
        "Computer",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2.1 Safari/605.1.15",
        "SAFARI",
        "Mac OS X",
        "Computer",
    ),
)
ATTACKER_AGENTS = (
    "python-requests/2.31.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "okhttp/4.9.2",
)
FIRST_NAMES = (
    "anna",
    "ben",
    "carla",
    "david",
    "elena",
    "felix",
    "grace",
    "hugo",
    "ines",
    "jonas",
    "karin",
    "liam",
    "maria",
    "noah",
    "olga",
    "pavel",
    "quinn",
    "rosa",
    "sven",
    "tara",
    "umar",
    "vera",
    "wei",
    "ximena",
    "yusuf",
    "zoe",
    "aaron",
    "bianca",
    "chen",
    "dario",
    "emma",
    "farid",
    "greta",
    "henrik",
    "isabel",
    "jamal",
    "kenji",
    "lucia",
    "marek",
    "nadia",
)
LAST_NAMES = (
    "schmidt",
    "fischer",
    "novak",
    "silva",
    "kowalski",
    "brown",
    "okafor",
    "tanaka",
    "garcia",
    "muller",
    "rossi",
    "dubois",
    "jensen",
    "costa",
    "nguyen",
    "khan",
    "lindqvist",
    "moreau",
    "ivanova",
    "walsh",
    "becker",
    "santos",
    "weber",
    "murphy",
    "park",
    "haddad",
    "olsen",
    "ferreira",
    "wojcik",
    "campbell",
)
_ALPHANUMERIC = string.ascii_letters + string.digits


@dataclass(frozen=True)
class User:
    """An employee: identity, where they work from, and the devices they use."""

    login: str
    full_name: str
    city: City
    home_ip: str
    office_ip: str | None
    workstation: str
    browser: tuple[str, str, str, str]
    #: Local hour the working day usually starts.
    start_hour: float
    admin: bool
    okta_id: str
    guid: str

    @property
    def email(self) -> str:
        return f"{self.login}@{DOMAIN}"

    @property
    def user_agent(self) -> str:
        return self.browser[0]

    @property
    def engineer(self) -> bool:
        """Engineers use the SSH bastion and the AWS console."""
        return self.admin or int(stable_hex(self.login), 16) % 3 == 0

    @property
    def origin(self) -> tuple[str, City, str]:
        """Address, city and user agent of the user's usual sign-ins (the office, else home)."""
        return self.office_ip or self.home_ip, self.city, self.user_agent


@dataclass(frozen=True)
class Attacker:
    """An attacker's vantage point: address, place and tooling."""

    ip: str
    city: City
    user_agent: str

    @property
    def origin(self) -> tuple[str, City, str]:
        """Address, city and user agent of the attacker's requests."""
        return self.ip, self.city, self.user_agent


def public_ip(rng: Random, city: City) -> str:
    """An address from one of the city's ISP blocks."""
    return f"{rng.choice(city.prefixes)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"


def token(rng: Random, length: int, alphabet: str = _ALPHANUMERIC) -> str:
    """A random identifier of ``length`` characters."""
    return "".join(rng.choices(alphabet, k=length))


def guid(rng: Random) -> str:
    """A random (version 4 shaped) GUID."""
    digits = token(rng, 32, "0123456789abcdef")
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-a{digits[17:20]}-{digits[20:]}"


def stable_hex(*parts: object, length: int = 16) -> str:
    """Hex digits derived from ``parts``: the same inputs always give the same id."""
    return hashlib.blake2b("\0".join(map(str, parts)).encode(), digest_size=16).hexdigest()[:length]


class World:
    """The organisation behind every scenario: its employees, offices and the attackers' pool."""

    def __init__(self, seed: int, size: int) -> None:
        rng = Random(f"{seed}/world")
        self.seed = seed
        self.users: list[User] = []
        taken: set[str] = set()
        for index in range(size):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            login = f"{first}.{last}"
            if login in taken:
                login = f"{first}.{last}{index}"
            taken.add(login)
            city = rng.choice(HOME_CITIES)
            office = OFFICES.get(city.name) if rng.random() < 0.7 else None
            self.users.append(
                User(
                    login=login,
                    full_name=f"{first.title()} {last.title()}",
                    city=city,
                    home_ip=public_ip(rng, city),
                    office_ip=office,
                    workstation=f"10.20.{1 + index // 250}.{10 + index % 240}",
                    browser=rng.choice(BROWSERS),
                    start_hour=rng.gauss(8.7, 0.7),
                    admin=index % 12 == 0,
                    okta_id="00u" + token(rng, 17),
                    guid=guid(rng),
                )
            )
        self.by_login = {user.login: user for user in self.users}

    def attacker(self, rng: Random, city: City | None = None) -> Attacker:
        """A fresh attacker vantage point (a hosting or residential address abroad)."""
        city = city or rng.choice(ATTACKER_CITIES)
        return Attacker(public_ip(rng, city), city, rng.choice(ATTACKER_AGENTS))
