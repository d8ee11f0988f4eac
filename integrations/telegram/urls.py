from integrations.telegram.views import PAGES

app_name = "telegram"

urlpatterns = PAGES.urlpatterns()
