"""The REST API under /api, one module per resource; the contract is agent_ui/api/openapi.json."""
