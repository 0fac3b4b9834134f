"""The local AI gateway: an ASGI app served by uvicorn on the shared event loop."""
