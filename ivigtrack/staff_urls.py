"""Staff pages (namespace "staff")."""

app_name = "staff"
urlpatterns: list = []
