"""Who gets which address: the ``email`` key of each person in the playbooks.

An owner's ``email`` (``tom: {name: Tom Berg, email: tom@example.com}``) is
where their digest goes; teams get none (their members each get their own).
An address is checked before anything is sent: one address, no display name,
no line break or control character (a header could be forged with one), and
the same person must not have two different addresses in two playbooks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pdca.errors import PlaybookError, Problem

_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
"""A plain address: a local part of the usual characters, a dotted domain."""


def check_address(text: str) -> str | None:
    """Why ``text`` is not a plain address, or None when it is."""
    if len(text) > 254:
        return "is longer than an address can be (254 characters)"
    if not _ADDRESS.match(text):
        return f"{text[:80]!r} is not an address like name@example.com"
    return None


@dataclass(frozen=True)
class Recipient:
    person: str
    name: str
    address: str


def recipients(paths: Iterable[Path]) -> dict[str, Recipient]:
    """Each person's address across the playbooks; PlaybookError (FILE:LINE:COL) for a
    bad address or one person with two addresses."""
    from pdca.playbook import load_checked

    found: dict[str, tuple[Recipient, str]] = {}
    problems: list[Problem] = []
    for path in paths:
        pb = load_checked(path).playbook
        for oid, owner in pb.owners.items():
            if owner.is_team or not owner.email:
                continue
            where = owner.locs.get("email") or owner.loc
            address = owner.email.strip()
            problem = check_address(address)
            if problem:
                problems.append(
                    Problem(f"owner '{oid}': email {problem}; write one plain address", where)
                )
                continue
            if oid in found and found[oid][0].address.lower() != address.lower():
                problems.append(
                    Problem(
                        f"owner '{oid}': email {address} differs from {found[oid][0].address} "
                        f"in {found[oid][1]}; give a person one address",
                        where,
                    )
                )
                continue
            found.setdefault(oid, (Recipient(oid, owner.name, address), str(path)))
    if problems:
        raise PlaybookError(problems)
    return {oid: r for oid, (r, _) in found.items()}
