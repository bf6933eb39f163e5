"""The web's routers, one per page group; `aggregator.web.app.create_app` assembles them."""
