"""The call log: every call and every agent state change, written to the CRM (the handbook's 呼叫电话记录表)."""
