"""Contact continuity (PRODUCT.md §11): the share of a side's key-contact roles held by the
same person throughout the last twelve months. Pure: holdings in, figures out; the
selector `relationships.selectors.contact_continuity` reads the holdings.

Definitions, from the data Accord keeps:
- A *holding* is one KeyContact row: a person in a role on a side from its start date to
  its end date (open: still held). Changing a contact ends the current row and starts a
  new one (`services.key_contact_change`), so the rows are the dated history of who held
  each role. (The audit history of the rows says when something was recorded, not when a
  person took a role, so it is not read here.)
- A *role* is one of the side's `KeyContact.ContactRole`s that someone held on at least
  one day of the window: the twelve months ending on the day asked about.
- A role is *kept* when, from its first day held in the window to the window's last day,
  it was held every day and only ever by one person. A change of hands, a vacancy or a
  gap breaks it; a role first filled during the window and kept since is kept (no one
  left it).
- One *person*: the same Accord user, else the same e-mail address, else the same name.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from relationships import names

WINDOW_MONTHS = 12


@dataclass(frozen=True)
class Holding:
    role: str
    person: str
    start: date
    end: date | None  # None: still held


@dataclass(frozen=True)
class Continuity:
    window_start: date
    window_end: date
    kept: tuple[str, ...] = field(default=())
    changed: tuple[str, ...] = field(default=())

    @property
    def roles(self) -> int:
        return len(self.kept) + len(self.changed)

    @property
    def share(self) -> float | None:
        """Kept roles over roles; None when the side had no key contacts in the window."""
        return len(self.kept) / self.roles if self.roles else None


def person_key(*, user_id: int | None, email: str, name: str) -> str:
    if user_id is not None:
        return f"user:{user_id}"
    if email.strip():
        return f"email:{names.email_key(email)}"
    return f"name:{' '.join(name.split()).casefold()}"


def window_start(end: date) -> date:
    """The first day of the twelve months ending on `end`: 1 Dec 2025 for 30 Nov 2026."""
    try:
        return end.replace(year=end.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February
        return date(end.year - 1, 3, 1)


def contact_continuity(holdings: Iterable[Holding], *, on: date) -> Continuity:
    """Which roles of one side were kept by one person over the twelve months ending `on`."""
    start = window_start(on)
    by_role: dict[str, list[Holding]] = defaultdict(list)
    for holding in holdings:
        if holding.start <= on and (holding.end is None or holding.end >= start):
            by_role[holding.role].append(holding)
    kept, changed = [], []
    for role in sorted(by_role):
        (kept if _kept(by_role[role], start, on) else changed).append(role)
    return Continuity(window_start=start, window_end=on, kept=tuple(kept), changed=tuple(changed))


def _kept(holdings: list[Holding], start: date, end: date) -> bool:
    if len({holding.person for holding in holdings}) > 1:
        return False
    holdings = sorted(holdings, key=lambda holding: holding.start)
    covered_to = max(holdings[0].start, start) - timedelta(days=1)
    for holding in holdings:
        if holding.start > covered_to + timedelta(days=1):
            return False  # a gap: nobody held the role for a while
        covered_to = max(covered_to, holding.end or end)
    return covered_to >= end
