"""Patient portal pages (namespace "portal")."""

app_name = "portal"
urlpatterns: list = []
