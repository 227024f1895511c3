"""Customer-data confidentiality (handbook §6, 客户资料保密制度): who sees phone numbers in full, who
may reveal one, and how far a desktop may search the CRM. Roles are named as crm.models.Role spells
them (config does not import the CRM)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from config.base import _Section

RoleName = Literal["agent", "team_leader", "supervisor", "qa_inspector", "admin"]


class PrivacySettings(_Section):
    full_phones: list[RoleName] = Field(
        default=["supervisor", "admin"],
        description="Roles that see customers' phone numbers in full; the others see 138****8000. "
        "Whoever is or was on a call always sees that call's number.",
    )
    reveal_phones: list[RoleName] = Field(
        default=["agent", "team_leader"],
        description="Masked roles that may reveal one number on purpose (each reveal is in the audit log).",
    )
    search_min_chars: int = Field(
        default=2, ge=1, le=20, description="Shortest text a role outside full_phones may search customers by."
    )
    search_page: int = Field(
        default=20, ge=1, le=100, description="Most customers one search answers a role outside full_phones."
    )
    export_customers: list[RoleName] = Field(
        default=["supervisor", "admin"],
        description="Roles that may export customers as CSV (handbook §6: no copying without approval); "
        "every export is in the audit log. QA inspectors never do.",
    )
    transcripts_unredacted: list[RoleName] = Field(
        default=[],
        description="Roles that read call transcripts and auto-QA evidence with card, ID and phone numbers in full; "
        "the others see them masked but the last four digits (qa/redaction.py). Empty: nobody.",
    )
    import_customers: list[RoleName] = Field(
        default=["supervisor", "admin"],
        description="Roles that may import customers from CSV; every import is in the audit log. QA inspectors never do.",
    )
