from integrations.discord.views import PAGES

app_name = "discord"

urlpatterns = PAGES.urlpatterns()
