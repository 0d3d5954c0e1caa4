"""Switchboard's desktop face (Qt). Talks to the gateway only through GatewayService."""
