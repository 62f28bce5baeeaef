"""Registry of the PII recognizers: one factory per supported entity, so the rules build only what they use.

The recognizers themselves live in :mod:`~curation.stages.pii.structured` (e-mail, phone, card, SSN, IP,
IBAN), :mod:`~curation.stages.pii.secrets` (code secrets), :mod:`~curation.stages.pii.names` (PERSON) and
:mod:`~curation.stages.pii.address` (STREET_ADDRESS). Context words from ``rules/pii.yaml`` replace a
recognizer's defaults (an empty list disables context boosting).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from curation.stages.pii import secrets, structured
from curation.stages.pii.rules import PiiRules
from curation.stages.pii.spans import Recognizer


def _with_context(rec: Recognizer, rules: PiiRules) -> Recognizer:
    rule = rules.entities.get(rec.entity)
    if rule is not None and rule.context is not None:
        rec.context = tuple(rule.context)
    return rec


def _person(rules: PiiRules, tables_file: str | Path | None = None) -> Recognizer:
    """PERSON; its word tables from ``tables_file`` (prebuilt, checked) when given, else from the packages."""
    from curation.stages.pii.names import PersonRecognizer

    types = tuple(t for ts in rules.addresses.street_types.values() for t in ts)
    return PersonRecognizer(rules.names, types, tables_file)


def _address(rules: PiiRules) -> Recognizer:
    from curation.stages.pii.address import AddressRecognizer

    return AddressRecognizer(rules.addresses)


def _no_rules(fn: Callable[[], Recognizer]) -> Callable[[PiiRules], Recognizer]:
    return lambda _rules: fn()


BUILDERS: dict[str, Callable[[PiiRules], Recognizer]] = {
    "EMAIL_ADDRESS": lambda _r: structured.EmailRecognizer(),
    "PHONE_NUMBER": lambda r: structured.PhoneRecognizer(tuple(r.phone_regions), ("phone", "tel", "call")),
    "CREDIT_CARD": lambda _r: structured.CardRecognizer(),
    "US_SSN": lambda _r: structured.SsnRecognizer(),
    "IP_ADDRESS": lambda _r: structured.IpRecognizer(),
    "IBAN_CODE": lambda _r: structured.IbanRecognizer(),
    "PERSON": _person,
    "STREET_ADDRESS": _address,
    "AWS_ACCESS_KEY_ID": _no_rules(secrets.aws_access_key_id),
    "AWS_SECRET_ACCESS_KEY": _no_rules(secrets.aws_secret_access_key),
    "GITHUB_TOKEN": _no_rules(secrets.github_token),
    "SLACK_TOKEN": _no_rules(secrets.slack_token),
    "PRIVATE_KEY": _no_rules(secrets.private_key),
    "PASSWORD": _no_rules(secrets.password),
    "GENERIC_SECRET": _no_rules(secrets.generic_secret),
}


def build_recognizers(rules: PiiRules, entities: tuple[str, ...], name_tables: str | Path | None = None
                      ) -> dict[str, Recognizer]:
    """Recognizers for ``entities`` only (the rules decide what is loaded), by entity; PERSON reads its
    word tables from the prebuilt ``name_tables`` file when given (:mod:`curation.stages.pii.gazetteer`)."""
    return {e: _with_context(_person(rules, name_tables) if e == "PERSON" else BUILDERS[e](rules), rules)
            for e in entities}
