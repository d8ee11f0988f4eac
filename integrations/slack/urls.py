from integrations.slack.views import PAGES

app_name = "slack"

urlpatterns = PAGES.urlpatterns()
