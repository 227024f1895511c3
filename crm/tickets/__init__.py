"""Tickets: complaints and after-sales requests, one lifecycle engine for every type in config.tickets.

- ``lifecycle``: the rules (which step may follow which, the forms' values, the promised response);
- ``store``: opening, moving, assigning and linking calls in the database, each with its event;
- ``views``: a ticket as JSON, the complainant hidden from those who do not handle it.

Who may see, handle and close a ticket is decided in crm.access."""
