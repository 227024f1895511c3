"""Browser phones (WebRTC on Asterisk's PJSIP): each agent's endpoint and credentials."""
