"""Outbound campaigns (issue 15): the rules (``plan``), the lists and attempts (``store``), contacts
from a segment or a CSV (``contacts``), and the figures (``figures``). The dialling itself is
telephony's (``telephony/campaigns``)."""
