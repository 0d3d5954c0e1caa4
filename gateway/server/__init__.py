"""The HTTP face of the gateway: aiohttp routes per client dialect."""
