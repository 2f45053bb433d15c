"""The fictional tenant Contoso Pharma: its people, devices, networks and the apps they use.

Everything here is invented. The domain is ``contosopharma.example`` (a reserved name); the
public IP addresses look like those of the providers named next to them but refer to no real
host, person or attacker. The Microsoft application and resource ids are the real, publicly
documented first-party ids, because hunts key on them.

The roster is fixed (not drawn from the seed): the planted cases name these users, and the
seed only varies the background sign-ins around them.
"""

from __future__ import annotations

import base64
import random
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: The fixed "now" of the dataset: every event happens in the 14 days before it.
DEMO_END = datetime(2026, 11, 30, tzinfo=UTC)
DEMO_START = DEMO_END - timedelta(days=14)
#: Local time of the tenant's offices. The window lies wholly in winter time (CET, UTC+1),
#: so a fixed offset is exact and needs no time zone database.
OFFICE_TIME = timedelta(hours=1)

TENANT_NAME = "Contoso Pharma"
TENANT_DOMAIN = "contosopharma.example"
TENANT_ID = "5b3c2f1e-8a47-4d6b-9c0e-2f71a6d4e8b3"
WORKSPACE_ID = "c1e7a3d9-4f02-4b6e-8d15-7a9e0c3b5f24"
MICROSOFT_SERVICES_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
PARTNER_DOMAIN = "fabrikam.example"
PARTNER_TENANT_ID = "0e9d4c7a-6b21-4f83-a5d0-3c8e1f2b7a96"


def new_uuid(rng: random.Random) -> str:
    """A random version-4 UUID drawn from ``rng`` (so it is reproducible)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_token_id(rng: random.Random) -> str:
    """A 22-character base64url token identifier, the shape of UniqueTokenIdentifier."""
    raw = rng.getrandbits(128).to_bytes(16, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Place:
    """A geolocation as Entra reports it."""

    city: str
    state: str
    country: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Network:
    """A public egress address with its autonomous system and location."""

    ip: str
    asn: int
    place: Place
    named_location: str = ""

    @property
    def trusted(self) -> bool:
        """True for the corporate egress addresses (a named, trusted location)."""
        return bool(self.named_location)


@dataclass(frozen=True)
class Device:
    """The device part of a sign-in. ``device_id`` is "" when Entra does not know the device."""

    device_id: str
    display_name: str
    os: str
    trust_type: str = ""
    managed: bool = False
    compliant: bool = False

    @property
    def registered(self) -> bool:
        """True when the device is known to Entra (joined or registered)."""
        return bool(self.device_id)


@dataclass(frozen=True)
class App:
    """A client application or a resource, by display name and application id."""

    name: str
    app_id: str


@dataclass(frozen=True)
class Client:
    """The software making the request: client type, parsed browser and raw user agent."""

    kind: str  # ClientAppUsed: "Browser" or "Mobile Apps and Desktop clients"
    browser: str
    user_agent: str


@dataclass(frozen=True)
class User:
    """A member (or guest) of the tenant with the devices and networks they sign in from."""

    upn: str
    display_name: str
    object_id: str
    department: str
    role: str
    site: str
    home: Network
    laptop: Device
    phone: Device
    personal_pc: Device | None
    password_changed_days_ago: int
    guest: bool = False

    @property
    def is_room(self) -> bool:
        """True for a Teams Rooms resource account."""
        return self.role == "room"


# -- places and networks --------------------------------------------------------------------

PARIS = Place("Paris", "Ile-De-France", "FR", 48.8566, 2.3522)
LYON = Place("Lyon", "Auvergne-Rhone-Alpes", "FR", 45.764, 4.8357)

PARIS_HQ = Network("193.57.108.20", 3215, PARIS, "Paris HQ egress")
LYON_SITE = Network("91.208.37.4", 15557, LYON, "Lyon site egress")
CORPORATE = {"paris": PARIS_HQ, "lyon": LYON_SITE}

_HOME_PLACES = {
    "paris": (
        PARIS,
        Place("Boulogne-Billancourt", "Ile-De-France", "FR", 48.8397, 2.2399),
        Place("Vincennes", "Ile-De-France", "FR", 48.8474, 2.4392),
        Place("Versailles", "Ile-De-France", "FR", 48.8049, 2.1204),
        Place("Montreuil", "Ile-De-France", "FR", 48.8638, 2.4485),
        Place("Saint-Denis", "Ile-De-France", "FR", 48.9362, 2.3574),
    ),
    "lyon": (
        LYON,
        Place("Villeurbanne", "Auvergne-Rhone-Alpes", "FR", 45.7719, 4.8902),
        Place("Caluire-et-Cuire", "Auvergne-Rhone-Alpes", "FR", 45.7953, 4.8467),
    ),
}
# French consumer ISPs: (ASN, first octets of their residential ranges).
_HOME_ISPS = ((3215, (90, 86)), (12322, (82, 88)), (15557, (109,)), (5410, (176,)))
MOBILE_CARRIERS = (
    Network("92.184.105.33", 3215, PARIS),
    Network("37.169.24.201", 51207, PARIS),
    Network("109.221.4.77", 15557, LYON),
)
TRAVEL = (
    Network("83.45.122.17", 3352, Place("Madrid", "Madrid", "ES", 40.4168, -3.7038)),
    Network("86.150.31.208", 2856, Place("London", "England", "GB", 51.5072, -0.1276)),
    Network("178.197.226.9", 3303, Place("Basel", "Basel-City", "CH", 47.5596, 7.5886)),
)
PARTNER_OFFICE = Network(
    "81.246.88.130", 5432, Place("Brussels", "Brussels", "BE", 50.8503, 4.3517)
)

# Hosting providers used by the planted attacks (addresses invented, ASNs real).
DO_CLIFTON = Network(
    "159.203.77.142", 14061, Place("Clifton", "New Jersey", "US", 40.8584, -74.1638)
)
DO_AMSTERDAM = Network(
    "188.166.41.20", 14061, Place("Amsterdam", "North Holland", "NL", 52.3676, 4.9041)
)
AWS_ASHBURN = Network("3.215.68.91", 16509, Place("Ashburn", "Virginia", "US", 39.0438, -77.4874))
AWS_DUBLIN = Network("34.245.17.160", 16509, Place("Dublin", "Dublin", "IE", 53.3498, -6.2603))
HETZNER_FALKENSTEIN = Network(
    "49.13.104.77", 24940, Place("Falkenstein", "Saxony", "DE", 50.4779, 12.3713)
)
HETZNER_HELSINKI = Network(
    "65.21.149.8", 24940, Place("Helsinki", "Uusimaa", "FI", 60.1699, 24.9384)
)
VULTR_FRANKFURT = Network(
    "45.76.83.29", 20473, Place("Frankfurt am Main", "Hesse", "DE", 50.1109, 8.6821)
)
VULTR_FRANKFURT_B = Network(
    "45.76.83.114", 20473, Place("Frankfurt am Main", "Hesse", "DE", 50.1109, 8.6821)
)
# Residential proxies (consumer ISP addresses rented to attackers): no hosting ASN to flag.
PROXY_ROTTERDAM = Network(
    "84.27.160.53", 33915, Place("Rotterdam", "South Holland", "NL", 51.9244, 4.4777)
)
PROXY_UTRECHT = Network("62.195.48.117", 33915, Place("Utrecht", "Utrecht", "NL", 52.0907, 5.1214))
DO_SINGAPORE = Network(
    "128.199.212.54", 14061, Place("Singapore", "Singapore", "SG", 1.3521, 103.8198)
)

# -- applications and resources -------------------------------------------------------------

OFFICE_HOME = App("OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca")
OUTLOOK_WEB = App("One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48")
OUTLOOK_DESKTOP = App("Microsoft Outlook", "5d661950-3475-41cd-a2c3-d671a3162bc1")
OUTLOOK_MOBILE = App("Outlook Mobile", "27922004-5251-4030-b22d-91ecd9a37ea4")
TEAMS = App("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264")
TEAMS_WEB = App("Microsoft Teams Web Client", "5e3ce6c0-2b1f-4285-8d4b-75ee78787346")
SHAREPOINT_APP = App("Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000")
ONEDRIVE_SYNC = App("OneDrive SyncEngine", "ab9b8c07-8f02-4f72-87fa-80105867a763")
AZURE_PORTAL = App("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c")
MS_OFFICE = App("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c")
AUTH_BROKER = App("Microsoft Authentication Broker", "29d9ed98-a469-4536-ade2-f981bc1d605e")
AZURE_CLI = App("Microsoft Azure CLI", "04b07795-8ddb-461a-bbee-02f9e1bf7b46")
AZURE_POWERSHELL = App("Microsoft Azure PowerShell", "1950a258-227b-4e31-a9cf-717495945fc2")
GRAPH_CLI = App("Microsoft Graph Command Line Tools", "14d82eec-204b-4c2f-b7e8-296a70dab67e")

GRAPH = App("Microsoft Graph", "00000003-0000-0000-c000-000000000000")
EXCHANGE = App("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000")
SHAREPOINT = SHAREPOINT_APP
TEAMS_SERVICES = App("Microsoft Teams Services", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe")
AZURE_MANAGEMENT = App(
    "Windows Azure Service Management API", "797f4846-ba00-4fd7-ba43-dac1f8f63013"
)
AZURE_AD = App("Windows Azure Active Directory", "00000002-0000-0000-c000-000000000000")
DEVICE_REGISTRATION = App("Device Registration Service", "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9")

# -- clients --------------------------------------------------------------------------------

_CHROMIUM = (
    "Mozilla/5.0 ({os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36"
)
_WINDOWS_UA = "Windows NT 10.0; Win64; x64"
EDGE = Client("Browser", "Edge 155.0.0", _CHROMIUM.format(os=_WINDOWS_UA, v=155) + " Edg/155.0.0.0")
CHROME = Client("Browser", "Chrome 155.0.0", _CHROMIUM.format(os=_WINDOWS_UA, v=155))
SAFARI_MAC = Client(
    "Browser",
    "Safari 26.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/26.1 Safari/605.1.15",
)
RICH_CLIENT = Client(
    "Mobile Apps and Desktop clients",
    "Rich Client 4.78.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/155.0.0.0 Safari/537.36 Edg/155.0.0.0 Teams/26.1.0.1024",
)
IOS_APP = Client(
    "Mobile Apps and Desktop clients", "Mobile Safari", "Outlook-iOS/2.0 (iPhone; iOS 26.1)"
)
ANDROID_APP = Client(
    "Mobile Apps and Desktop clients",
    "Rich Client 4.78.0",
    "Mozilla/5.0 (Linux; Android 16; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/155.0.0.0 Mobile Safari/537.36",
)


def client_for(device: Device, kind: str) -> Client:
    """The client a device presents for a browser or an app sign-in."""
    if device.os in ("Ios", "Android"):
        return IOS_APP if device.os == "Ios" else ANDROID_APP
    if kind == "Browser":
        return SAFARI_MAC if device.os == "MacOs" else (EDGE if device.trust_type else CHROME)
    return RICH_CLIENT


# -- roster ---------------------------------------------------------------------------------

# (given name, family name, department, role, site). Roles drive the noise: "office",
# "engineer" (Azure work), "it", "sales" (travels), "exec", "room", "guest".
_PEOPLE: tuple[tuple[str, str, str, str, str], ...] = (
    ("Isabelle", "Rousseau", "Executive", "exec", "paris"),
    ("Olivier", "Fontaine", "Executive", "exec", "paris"),
    ("Nathalie", "Chevalier", "Executive", "exec", "lyon"),
    ("Camille", "Martin", "Finance", "office", "paris"),
    ("Hugo", "Bernard", "Regulatory Affairs", "office", "paris"),
    ("Léa", "Dubois", "Clinical Operations", "office", "paris"),
    ("Julien", "Moreau", "Research & Development", "office", "lyon"),
    ("Sophie", "Laurent", "Human Resources", "office", "paris"),
    ("Nicolas", "Petit", "Procurement", "office", "paris"),
    ("Chloé", "Lefebvre", "Finance", "office", "paris"),
    ("Mathieu", "Garnier", "Regulatory Affairs", "office", "paris"),
    ("Inès", "Mercier", "Marketing", "office", "paris"),
    ("Thomas", "Girard", "Cloud Engineering", "engineer", "paris"),
    ("Manon", "Roux", "Cloud Engineering", "engineer", "lyon"),
    ("Antoine", "Fournier", "Data Platform", "engineer", "paris"),
    ("Pauline", "Blanc", "Data Platform", "engineer", "paris"),
    ("Karim", "Benali", "IT Operations", "it", "paris"),
    ("Sarah", "Guerin", "IT Operations", "it", "paris"),
    ("Yann", "Le Gall", "IT Operations", "it", "lyon"),
    ("Élodie", "Faure", "Information Security", "it", "paris"),
    ("Maxime", "Andre", "Sales", "sales", "paris"),
    ("Clara", "Lambert", "Sales", "sales", "paris"),
    ("Romain", "Bonnet", "Sales", "sales", "lyon"),
    ("Audrey", "Francois", "Sales", "sales", "paris"),
    ("Vincent", "Muller", "Medical Affairs", "sales", "paris"),
    ("Julie", "Henry", "Finance", "office", "paris"),
    ("Sébastien", "Perrin", "Finance", "office", "lyon"),
    ("Émilie", "Morel", "Human Resources", "office", "paris"),
    ("Alexandre", "Giraud", "Legal", "office", "paris"),
    ("Marion", "Mathieu", "Legal", "office", "paris"),
    ("Guillaume", "Clement", "Quality Assurance", "office", "lyon"),
    ("Céline", "Gauthier", "Quality Assurance", "office", "lyon"),
    ("Pierre", "Robin", "Manufacturing", "office", "lyon"),
    ("Aurélie", "Masson", "Manufacturing", "office", "lyon"),
    ("François", "Sanchez", "Manufacturing", "office", "lyon"),
    ("Laura", "Nicolas", "Research & Development", "office", "lyon"),
    ("Benoît", "Roussel", "Research & Development", "office", "lyon"),
    ("Amélie", "Lemaire", "Research & Development", "office", "paris"),
    ("David", "Boyer", "Research & Development", "office", "paris"),
    ("Lucie", "Vidal", "Research & Development", "office", "paris"),
    ("Adrien", "Caron", "Clinical Operations", "office", "paris"),
    ("Mélanie", "Renaud", "Clinical Operations", "office", "paris"),
    ("Jérôme", "Dumont", "Pharmacovigilance", "office", "paris"),
    ("Charlotte", "Leclerc", "Pharmacovigilance", "office", "paris"),
    ("Quentin", "Noel", "Supply Chain", "office", "lyon"),
    ("Anaïs", "Meyer", "Supply Chain", "office", "lyon"),
    ("Florian", "Lucas", "Marketing", "office", "paris"),
    ("Margaux", "Brun", "Communications", "office", "paris"),
    ("Christophe", "Joly", "Facilities", "office", "paris"),
    ("Sandrine", "Colin", "Executive Office", "office", "paris"),
    ("Bastien", "Arnaud", "Procurement", "office", "lyon"),
    ("Hélène", "Lacroix", "Regulatory Affairs", "office", "paris"),
    ("Damien", "Picard", "Medical Affairs", "office", "paris"),
    ("Morgane", "Roger", "Human Resources", "office", "lyon"),
    ("Kevin", "Aubert", "Finance", "office", "paris"),
)
_GUESTS = (("Alex", "Chen", "External (Fabrikam)"), ("Priya", "Raman", "External (Fabrikam)"))
_ROOMS = (
    ("room-paris-vercors", "Salle Vercors (Paris)", "paris"),
    ("room-lyon-rhone", "Salle Rhône (Lyon)", "lyon"),
    ("room-paris-jura", "Salle Jura (Paris)", "paris"),
)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return folded.lower().replace(" ", "")


def _home(rng: random.Random, site: str) -> Network:
    asn, octets = rng.choice(_HOME_ISPS)
    address = (
        f"{rng.choice(octets)}.{rng.randint(1, 254)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )
    return Network(address, asn, rng.choice(_HOME_PLACES[site]))


def _laptop(rng: random.Random, site: str, role: str) -> Device:
    prefix = "CPH-PAR" if site == "paris" else "CPH-LYS"
    name = f"{prefix}-{rng.randint(1000, 9999)}"
    if role == "exec" and rng.random() < 0.5:
        return Device(new_uuid(rng), f"{name}-MAC", "MacOs", "Azure AD registered", True, True)
    os_name = "Windows 11" if rng.random() < 0.35 else "Windows 10"
    return Device(new_uuid(rng), name, os_name, "Hybrid Azure AD joined", True, True)


def _phone(rng: random.Random, display: str) -> Device:
    os_name = "Ios" if rng.random() < 0.6 else "Android"
    if rng.random() < 0.65:
        model = "iPhone" if os_name == "Ios" else "Pixel 9"
        name = f"{display.split()[0]}'s {model}"
        return Device(new_uuid(rng), name, os_name, "Azure AD registered", True, True)
    return Device("", "", os_name)


def _person(given: str, family: str, department: str, role: str, site: str) -> User:
    upn = f"{_ascii(given)}.{_ascii(family)}@{TENANT_DOMAIN}"
    rng = random.Random(f"user:{upn}")
    display = f"{given} {family}"
    personal = Device("", "", "Windows 10") if rng.random() < 0.3 or role == "it" else None
    return User(
        upn=upn,
        display_name=display,
        object_id=new_uuid(rng),
        department=department,
        role=role,
        site=site,
        home=_home(rng, site),
        laptop=_laptop(rng, site, role),
        phone=_phone(rng, display),
        personal_pc=personal,
        password_changed_days_ago=rng.randint(3, 170),
    )


def _guest(given: str, family: str, department: str) -> User:
    home_upn = f"{_ascii(given)}.{_ascii(family)}@{PARTNER_DOMAIN}"
    upn = f"{home_upn.replace('@', '_')}#EXT#@{TENANT_DOMAIN}"
    rng = random.Random(f"user:{upn}")
    unknown = Device("", "", "Windows 10")
    return User(
        upn=upn,
        display_name=f"{given} {family}",
        object_id=new_uuid(rng),
        department=department,
        role="guest",
        site="paris",
        home=PARTNER_OFFICE,
        laptop=unknown,
        phone=unknown,
        personal_pc=None,
        password_changed_days_ago=rng.randint(20, 300),
        guest=True,
    )


def _room(alias: str, display: str, site: str) -> User:
    upn = f"{alias}@{TENANT_DOMAIN}"
    rng = random.Random(f"user:{upn}")
    label = alias.removeprefix("room-").upper()
    if alias == "room-paris-jura":  # set up by a contractor, never enrolled in Intune
        device = Device("", "", "Android")
    else:
        device = Device(new_uuid(rng), f"MTR-{label}", "Android", "Azure AD registered", True, True)
    return User(
        upn=upn,
        display_name=display,
        object_id=new_uuid(rng),
        department="Facilities",
        role="room",
        site=site,
        home=CORPORATE[site],
        laptop=device,
        phone=device,
        personal_pc=None,
        password_changed_days_ago=rng.randint(200, 400),
    )


def build_roster() -> tuple[User, ...]:
    """Every account of the tenant: 55 staff, 2 guests and 3 meeting rooms."""
    staff = [_person(*person) for person in _PEOPLE]
    guests = [_guest(*guest) for guest in _GUESTS]
    rooms = [_room(*room) for room in _ROOMS]
    return (*staff, *guests, *rooms)


ROSTER: tuple[User, ...] = build_roster()
USERS: dict[str, User] = {user.upn: user for user in ROSTER}


def user(upn_prefix: str) -> User:
    """The account whose UPN starts with ``upn_prefix`` + "@" (e.g. ``"camille.martin"``)."""
    return USERS[f"{upn_prefix}@{TENANT_DOMAIN}"]


def resource_principal_id(resource: App) -> str:
    """The tenant's service principal object id for a resource (stable per resource)."""
    return new_uuid(random.Random(f"sp:{resource.app_id}"))
