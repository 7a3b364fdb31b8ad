"""The API's routers, one per resource; :func:`notifier.http.app.create_app` mounts them."""

from notifier.http.routers import (
    customers,
    events,
    health,
    notifications,
    preview,
    providers,
    returns,
    webhooks,
)

#: Every router, in the order the OpenAPI document lists them.
ROUTERS = (
    events.router,
    returns.router,
    notifications.router,
    customers.router,
    webhooks.router,
    preview.router,
    providers.router,
    health.router,
)

__all__ = ["ROUTERS"]
