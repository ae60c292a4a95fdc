"""A handful of Nigerian banks and deterministic account-name resolution."""

from __future__ import annotations

from dataclasses import dataclass

# Any 10-digit number resolves except this one, so callers can test the
# "Could not resolve account name" path.
UNRESOLVABLE_ACCOUNT_NUMBER = "0000000000"

_FIRST_NAMES = ("ADAOBI", "BABAJIDE", "CHIOMA", "DAYO", "EMEKA", "FUNMI", "GBENGA", "HAUWA", "IFEOMA", "KUNLE")
_LAST_NAMES = ("ADEYEMI", "BELLO", "CHUKWU", "DANJUMA", "EZE", "FASHOLA", "GARBA", "IBRAHIM", "NWOSU", "OKAFOR")


@dataclass(frozen=True)
class Bank:
    id: int
    name: str
    slug: str
    code: str
    longcode: str


BANKS: tuple[Bank, ...] = (
    Bank(1, "Access Bank", "access-bank", "044", "044150149"),
    Bank(3, "First Bank of Nigeria", "first-bank-of-nigeria", "011", "011151003"),
    Bank(9, "Guaranty Trust Bank", "guaranty-trust-bank", "058", "058152036"),
    Bank(7, "United Bank For Africa", "united-bank-for-africa", "033", "033153513"),
    Bank(20, "Wema Bank", "wema-bank", "035", "035150103"),
    Bank(21, "Zenith Bank", "zenith-bank", "057", "057150013"),
    Bank(67, "Kuda Bank", "kuda-bank", "50211", ""),
)


def find_bank(code: str) -> Bank | None:
    return next((bank for bank in BANKS if bank.code == code), None)


def resolve_account_name(account_number: str, bank_code: str) -> str | None:
    """The account holder's name, or None when Paystack could not resolve it."""
    if find_bank(bank_code) is None:
        return None
    if len(account_number) != 10 or not account_number.isdigit():
        return None
    if account_number == UNRESOLVABLE_ACCOUNT_NUMBER:
        return None
    first = _FIRST_NAMES[int(account_number[:5]) % len(_FIRST_NAMES)]
    last = _LAST_NAMES[int(account_number[5:]) % len(_LAST_NAMES)]
    return f"{first} {last}"
