"""Names of the entity types the PII stage can detect (no recognizer is imported here).

Rules are validated against :data:`SUPPORTED_ENTITIES` at pipeline build time; recognizers are built in
the worker's ``setup``. ``recognizers.BUILDERS`` must cover exactly these names (tested).
"""

from __future__ import annotations

#: Overlap resolution order: validated and specific types win over looser ones covering the same text
#: (a Luhn-valid card over a phone reading of its digits, an AWS secret over a generic secret, an e-mail
#: over the name in its local part, a street line over a name inside it).
PRIORITY: tuple[str, ...] = (
    "PRIVATE_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "SLACK_TOKEN", "PASSWORD",
    "IBAN_CODE", "CREDIT_CARD", "US_SSN", "EMAIL_ADDRESS", "IP_ADDRESS", "GENERIC_SECRET", "PHONE_NUMBER",
    "STREET_ADDRESS", "PERSON",
)
#: Every detectable type appears once in the priority order.
SUPPORTED_ENTITIES: frozenset[str] = frozenset(PRIORITY)
SECRET_ENTITIES: frozenset[str] = frozenset(
    {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "SLACK_TOKEN", "PRIVATE_KEY", "PASSWORD",
     "GENERIC_SECRET"}
)
#: Entities whose detection depends on the document's language and source kind.
LANGUAGE_ENTITIES: frozenset[str] = frozenset({"PERSON", "STREET_ADDRESS"})
