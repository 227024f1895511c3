"""Follow-up tasks (跟进任务): callbacks promised on calls, replies owed, dropped callers to call back,
messages to pass on, each due by a time (config.tasks) and done only with an outcome.

- ``store``: opening (by hand, from a record form), taking, assigning, finishing;
- ``dropped``: the sweep that turns abandoned calls into callback tasks for their queue;
- ``views``: a task as JSON, its number masked for the roles that see numbers masked.

Who may see and work which task is decided in crm.access."""
