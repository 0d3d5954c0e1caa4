"""How the desktop app lives: starting and stopping the gateway, quitting, signals, crashes."""
