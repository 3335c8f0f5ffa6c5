"""ASGI entry point for servers: ``uvicorn mediation.asgi:app``."""

from mediation.app import create_app

app = create_app()
