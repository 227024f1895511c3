"""Customers in and out of the CRM as CSV: the columns (columns.py), the checked, all-or-nothing
import (importer.py) and the streamed export (exporter.py)."""
