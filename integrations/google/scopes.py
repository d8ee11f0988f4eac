"""The Google scopes Orion asks for, one product at a time (incremental authorization).

Gmail: `gmail.modify` alone. The tools search, read, draft, send and label messages;
applying a label to a message (`messages.modify`) needs gmail.modify (gmail.labels only
manages the label list), and gmail.modify already covers reading, drafting and sending, so
readonly + compose + labels would ask for more consent screens and still not cover
labelling. It cannot delete mail for good nor change settings (unlike mail.google.com).

Calendar: `calendar.events` (list, create, update events; not calendar settings or
sharing) and `calendar.freebusy` (availability only). Every grant also asks for the
account's address (`openid` + `userinfo.email`, non-sensitive) to show who is connected.
"""

from __future__ import annotations

from collections.abc import Iterable

GMAIL_MODIFY = "https://www.googleapis.com/auth/gmail.modify"
CALENDAR_EVENTS = "https://www.googleapis.com/auth/calendar.events"
CALENDAR_FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
IDENTITY = ("openid", "https://www.googleapis.com/auth/userinfo.email")

PRODUCTS: dict[str, tuple[str, ...]] = {
    "gmail": (GMAIL_MODIFY,),
    "calendar": (CALENDAR_EVENTS, CALENDAR_FREEBUSY),
}
PRODUCT_LABELS = {"gmail": "Gmail", "calendar": "Google Calendar"}


def scopes_for(products: Iterable[str]) -> list[str]:
    """The scopes to request for `products`, identity first, without duplicates."""
    wanted = list(IDENTITY)
    for product in products:
        wanted += [s for s in PRODUCTS[product] if s not in wanted]
    return wanted


def products_granted(scopes: Iterable[str]) -> list[str]:
    """The products whose every scope is in `scopes`."""
    have = set(scopes)
    return [p for p, needed in PRODUCTS.items() if set(needed) <= have]
