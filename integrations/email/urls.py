from integrations.email.views import PAGES

app_name = "email"

urlpatterns = PAGES.urlpatterns()
