"""The campaign dialler: places the calls of running progressive campaigns (crm/campaigns owns the
lists, the rules and the attempts)."""
