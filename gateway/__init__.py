"""Switchboard's gateway: the HTTP server, routing, storage and CLI. Never imports Qt.

Importing this package does nothing but define the version; work starts from explicit
factories such as :class:`gateway.service.GatewayService`.
"""

__version__ = "0.1.0"
